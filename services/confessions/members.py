"""What the member side of the confessions service sends: notices, channel edits, points.

Pure functions: the servicer decides when, these decide what.
"""

from __future__ import annotations

from typing import Any

import orjson

from services.confessions.repository import Erasure, Recipient
from veil.contracts.texts import DELETED_TEXT, withdrawn_card
from veil.core.errors import InvalidInputError
from veil.core.outbox import OutgoingCall, Priority, card_key, channel_post_key, publication_key
from veil.core.proto import optional_time
from veil.v1 import confessions_pb2 as pb

# Impact points: an approved confession is what a community is for; a comment
# keeps a thread alive; a reaction is someone else saying the comment mattered.
POINTS_PER_APPROVED = 10
POINTS_PER_COMMENT = 2
POINTS_PER_REACTION = 1


def impact_points(approved: int, comments: int, reactions: int) -> int:
    """10 per approved confession + 2 per comment written + 1 per reaction received."""
    return (
        POINTS_PER_APPROVED * approved
        + POINTS_PER_COMMENT * comments
        + POINTS_PER_REACTION * max(reactions, 0)
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


def check_notice(notice: pb.MemberNotice) -> None:
    """A notice names its community, member, method and idempotency key."""
    if not (notice.community_id and notice.member_id and notice.method):
        raise InvalidInputError("a notice needs community_id, member_id and method")
    if not 1 <= len(notice.idempotency_key) <= 200:
        raise InvalidInputError("a notice needs an idempotency_key of 1..200 characters")


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
        text = withdrawn_card(card.number)
        if card.has_media:
            method, params = "editMessageCaption", {"caption": text, "parse_mode": "HTML"}
        else:
            method, params = "editMessageText", {"text": text, "parse_mode": "HTML"}
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
