"""Every Bot API call the confessions service queues in the notifier, built in one place.

Pure functions from rows to :class:`OutgoingCall`: the admins' card, the channel
post and the author's notices of a decision, a ban's notice, the notices other
services send to members by internal id, and an erasure's edits. The use-case
modules and servicers decide *when* a call is queued; this module decides
*what* it is, and under which idempotency key (the notifier keeps one call per
key, so a retried RPC queues nothing new).
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from services.confessions import domain
from services.confessions.decision import Decided
from services.confessions.rows import (
    BanRow,
    CommunityRow,
    ConfessionRow,
    Decision,
    Erasure,
    Recipient,
    Submission,
)
from veil.contracts.callbacks import card_markup
from veil.contracts.texts import DELETED_TEXT, decided_card, decision_outcome, withdrawn_card
from veil.core.errors import InvalidInputError
from veil.core.links import comments_markup, deep_link, post_link, write_markup
from veil.core.outbox import OutgoingCall, Priority, card_key, channel_post_key, publication_key
from veil.core.proto import optional_time
from veil.v1 import confessions_pb2 as pb

# -- confessions: card, decision, publication --------------------------------


class Carded(Protocol):
    """A confession with its author's history when it arrived (Submission, CardRow)."""

    @property
    def confession(self) -> ConfessionRow: ...
    @property
    def approved(self) -> int: ...
    @property
    def rejected(self) -> int: ...
    @property
    def flagged_word(self) -> str | None: ...
    @property
    def pii_found(self) -> str | None: ...
    @property
    def shadowed(self) -> bool: ...


def card_text(carded: Carded) -> str:
    """The admins' card of a confession (HTML): sent once, rebuilt for a decision
    taken in the Mini App (:func:`decided_card_call`)."""
    row = carded.confession
    return domain.card(
        row.number,
        row.text,
        media_kind=row.media_kind,
        approved=carded.approved,
        rejected=carded.rejected,
        flagged_word=carded.flagged_word,
        pii_found=carded.pii_found,
        shadowed=carded.shadowed,
    )


def card_call(community_id: int, admin_chat_id: int, stored: Submission) -> OutgoingCall:
    """The admins' card of a pending confession, with its author's history."""
    row = stored.confession
    method, params = domain.send_call(row.media, card_text(stored), card_markup(row.id))
    return OutgoingCall(
        community_id=community_id,
        method=method,
        chat_id=admin_chat_id,
        params=params,
        idempotency_key=card_key(row.id),
        priority=Priority.INTERACTIVE,
    )


def decided_card_call(
    community_id: int, admin_chat_id: int, card: Carded, decision: Decision
) -> OutgoingCall:
    """The card of a decision taken away from it (the Mini App): its buttons give
    way to the decision that stands, as a press of them would have it.

    Only the notifier knows the card's message (``edit_of``): an edit queued
    while the card is on its way waits behind it (same chat, same priority). One
    key per confession: the loser of a race queues the same edit again, a no-op.
    """
    row = card.confession
    outcome = decision_outcome(
        approved=decision.confession.status in ("approved", "published"),
        banned=decision.decision == "ban",
        moderator=decision.moderator,
        reason=decision.reason,
    )
    caption = row.media_kind is not None
    method, params = _card_edit(decided_card(card_text(card), outcome, caption=caption), caption)
    return OutgoingCall(
        community_id=community_id,
        method=method,
        chat_id=admin_chat_id,
        params=params,
        idempotency_key=f"decided:{row.id}",
        priority=Priority.INTERACTIVE,
        edit_of=card_key(row.id),
    )


def _card_edit(html: str, caption: bool) -> tuple[str, dict[str, Any]]:
    """The method and parameters that edit a card to ``html``: its caption when it
    is a media card. Without reply_markup the edit takes the buttons away."""
    if caption:
        return "editMessageCaption", {"caption": html, "parse_mode": "HTML"}
    return "editMessageText", {"text": html, "parse_mode": "HTML"}


def decision_call(community_id: int, decided: Decided) -> OutgoingCall | None:
    """What follows a decision that stands: the channel post of an approval, the
    author's notice of a rejection (keys derived from the confession: a retried
    call queues nothing new)."""
    decision = decided.decision
    row = decision.confession
    if row.status == "approved":
        method, params = domain.send_call(
            row.media,
            domain.post_text(row.number, row.text, media=row.media is not None),
            comments_markup(decided.bot_username, row.number),
        )
        if method == "sendMessage":
            # A link in a post shows no preview unless the community wants them:
            # a preview can show a person's page to everyone (/settings previews).
            params["link_preview_options"] = {"is_disabled": not decided.link_previews}
        return OutgoingCall(
            community_id=community_id,
            method=method,
            chat_id=decided.channel_chat_id,
            params=params,
            idempotency_key=publication_key(community_id, row.id),
            priority=Priority.NOTIFICATION,
            not_before=decision.publish_at,
        )
    if row.status == "rejected":
        return OutgoingCall(
            community_id=community_id,
            method="sendMessage",
            chat_id=decision.author_telegram_id,
            params={
                "text": domain.rejected_notice(row.number, decision.reason),
                "parse_mode": "HTML",
                "reply_markup": write_markup(decided.bot_username),
            },
            idempotency_key=f"rejected:{row.id}",
        )
    return None


def published_call(
    community: CommunityRow, row: ConfessionRow, author_chat_id: int, channel_message_id: int
) -> OutgoingCall:
    """The author's "approved" notice, with links to the channel post and its thread."""
    return OutgoingCall(
        community_id=community.id,
        method="sendMessage",
        chat_id=author_chat_id,
        params={
            "text": domain.published_notice(
                row.number,
                post_link(community.channel_chat_id, channel_message_id),
                deep_link(community.bot_username, row.number),
            ),
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
        },
        idempotency_key=f"published:{row.id}",
    )


def unpublish_call(
    community: CommunityRow, confession_id: int, channel_message_id: int
) -> OutgoingCall:
    """Take down a channel post that arrived after its confession was erased."""
    return OutgoingCall(
        community_id=community.id,
        method="deleteMessage",
        chat_id=community.channel_chat_id,
        params={"message_id": channel_message_id},
        idempotency_key=f"unpublish:{confession_id}",
    )


# -- members: bans, notices by internal id ------------------------------------


def ban_call(community: CommunityRow, ban: BanRow, chat_id: int) -> OutgoingCall:
    """The banned member's notice, once per ban (a retried call is the same ban)."""
    return OutgoingCall(
        community_id=community.id,
        method="sendMessage",
        chat_id=chat_id,
        params={
            "text": domain.banned_notice(community.title, ban.until),
            "parse_mode": "HTML",
            "reply_markup": write_markup(community.bot_username),
        },
        idempotency_key=f"ban:{community.id}:{ban.id}",
    )


def notice_call(notice: pb.MemberNotice, recipient: Recipient) -> OutgoingCall | None:
    """The Bot API call of a notice to a member, or None when it must be skipped
    (the member blocked the bot, or turned optional notices off)."""
    if recipient.unreachable or (notice.optional and not recipient.notifications_enabled):
        return None
    params = orjson.loads(notice.params_json or "{}")
    if not isinstance(params, dict):
        raise InvalidInputError("params_json must be a JSON object")
    # The service fills in where it goes; a caller never knows the chat.
    params.pop("chat_id", None)
    return OutgoingCall(
        community_id=notice.community_id,
        method=notice.method,
        chat_id=recipient.telegram_user_id,
        params=params,
        idempotency_key=notice.idempotency_key,
        collapse_key=notice.collapse_key or None,
        not_before=optional_time(notice, "not_before"),
        priority=Priority.NOTIFICATION,
    )


# -- erasure: the member's posts and cards ---------------------------------------


def erased_keys(community_id: int, erasure: Erasure) -> list[str]:
    """Keys of queued messages to others that carry the erased member's content."""
    keys = []
    for card in erasure.cards:
        keys += [card_key(card.confession_id), publication_key(community_id, card.confession_id)]
    return keys


def withdrawal_calls(community_id: int, erasure: Erasure) -> list[OutgoingCall]:
    """Each card of the member's confessions becomes "[withdrawn]" without buttons.

    The card's message id is known only to the notifier (``edit_of``): a card
    that was never sent is not edited either. A media card keeps its photo,
    voice note or video under an edited caption, so it is deleted as well
    (Telegram allows that for 48 hours; the caption edit holds after that).
    """
    calls = []
    for card in erasure.cards:
        method, params = _card_edit(withdrawn_card(card.number), card.has_media)
        calls.append(
            OutgoingCall(
                community_id=community_id,
                method=method,
                chat_id=erasure.admin_chat_id,
                params=params,
                idempotency_key=f"withdrawn:{card.confession_id}",
                priority=Priority.INTERACTIVE,
                edit_of=card_key(card.confession_id),
            )
        )
        if card.has_media:
            calls.append(
                OutgoingCall(
                    community_id=community_id,
                    method="deleteMessage",
                    chat_id=erasure.admin_chat_id,
                    params={},
                    idempotency_key=f"withdrawn-media:{card.confession_id}",
                    priority=Priority.INTERACTIVE,
                    edit_of=card_key(card.confession_id),
                )
            )
    return calls


def erasure_calls(community_id: int, erasure: Erasure) -> list[OutgoingCall]:
    """The channel edits of an erasure: each post replaced by "[deleted]", or deleted."""
    calls = []
    for post in erasure.posts:
        params: dict[str, Any] = {"message_id": post.channel_message_id}
        if erasure.erased_posts == "delete" or post.has_media:
            # A media post would keep its photo, voice note or video under an
            # edited caption: only deleting it erases the content.
            method = "deleteMessage"
        else:
            # Without reply_markup the "💬 Comments" button goes too: the thread
            # of an erased confession is closed.
            method = "editMessageText"
            params["text"] = f"#{post.number}\n{DELETED_TEXT}"
        calls.append(
            OutgoingCall(
                community_id=community_id,
                method=method,
                chat_id=erasure.channel_chat_id,
                params=params,
                idempotency_key=f"erase:{post.confession_id}",
                collapse_key=channel_post_key(community_id, post.confession_id),
                priority=Priority.NOTIFICATION,
            )
        )
    return calls
