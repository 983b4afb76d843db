"""The Bot API calls a submission and a decision queue (through the notifier)."""

from __future__ import annotations

from services.confessions import domain
from services.confessions.decision import Decided
from services.confessions.repository import Submission
from veil.core.links import comments_markup
from veil.core.outbox import OutgoingCall, Priority, card_key, publication_key


def card_call(community_id: int, admin_chat_id: int, stored: Submission) -> OutgoingCall:
    """The admins' card of a pending confession, with its author's history."""
    row = stored.confession
    method, params = domain.send_call(
        row.media,
        domain.card(
            row.number,
            row.text,
            media_kind=row.media_kind,
            approved=stored.approved,
            rejected=stored.rejected,
            flagged_word=stored.flagged_word,
            pii_found=stored.pii_found,
        ),
        domain.card_markup(row.id),
    )
    return OutgoingCall(
        community_id=community_id,
        method=method,
        chat_id=admin_chat_id,
        params=params,
        idempotency_key=card_key(row.id),
        priority=Priority.INTERACTIVE,
    )


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
            },
            idempotency_key=f"rejected:{row.id}",
        )
    return None
