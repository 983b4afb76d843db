"""Use case SubmitConfession: rules, limits, storage and the admins' card.

Idempotent on the key: a retried submission returns the first one (and queues
its card again, which the notifier keeps once) before any rule or limit is
looked at. Limits count per subject, so erasing oneself does not reset them.
The SQL is in :mod:`services.confessions.submission` (two statements). The
card goes through the service's relay (veil/core/relay.py): one INSERT after
the confession's, sent on to the notifier with other cards in one Enqueue.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.confessions import domain, outgoing, submission
from services.confessions.rows import Submission
from services.confessions.sealed import MemberSeal
from services.confessions.submission_limits import SubmissionLimits
from veil.core import pii
from veil.core.db import Database
from veil.core.durations import format_duration
from veil.core.errors import MemberRefusal
from veil.core.outbox import RelayedOutbox


@dataclass(frozen=True)
class Draft:
    """What a member sends, checked for shape (not yet against the rules)."""

    community_id: int
    telegram_user_id: int
    subject: str
    text: str
    key: str
    media: tuple[str, str] | None
    # Telegram's (type, offset, length) of text: the doxxing guard reads them.
    entities: tuple[tuple[str, int, int], ...] = ()


async def submit(
    db: Database,
    seal: MemberSeal,
    limits: SubmissionLimits,
    cards_out: RelayedOutbox,
    draft: Draft,
    *,
    max_length: int,
) -> Submission:
    """Store the draft as a pending confession and queue its card; the stored one
    again for a retried key. A refusal the member can read is :class:`MemberRefusal`."""
    found = await submission.intake(
        db, seal, draft.community_id, draft.telegram_user_id, draft.subject, draft.key
    )
    stored = found.existing
    if stored is None:
        stored = await _store(db, limits, draft, found, max_length=max_length)
    if stored.confession.status == "pending":
        await cards_out.send([outgoing.card_call(draft.community_id, found.admin_chat_id, stored)])
    return stored


async def _store(
    db: Database,
    limits: SubmissionLimits,
    draft: Draft,
    found: submission.Intake,
    *,
    max_length: int,
) -> Submission:
    """Check the draft against the community's rules and limits, then store it."""
    if found.banned:
        raise MemberRefusal(domain.banned_refusal(found.ban_until))
    rules = found.rules
    # Personal information first: a redaction is what the other checks see.
    guarded = pii.apply(draft.text, draft.entities, rules.safety.pii_action, "confession")
    text = domain.check_text(
        guarded.text, min(rules.max_length, max_length), media=draft.media is not None
    )
    word = domain.filtered_word(text, rules.filter_words)
    if word is not None and rules.filter_action == "reject":
        raise MemberRefusal(
            f"Your confession contains “{word}”, which this community does not allow. "
            "Please rephrase it.",
            fixable=True,
        )
    await _take_limits(limits, draft, rules)
    try:
        stored = await submission.store(
            db,
            draft.community_id,
            found.member_id,
            text,
            draft.key,
            media=draft.media,
            flagged_word=word,
            pii_found=guarded.flagged or None,
            shadowed=found.shadowed,
        )
    except BaseException:
        await limits.refund(draft.community_id, draft.subject)
        raise
    if not stored.created:
        # A concurrent retry of the same submission stored it first.
        await limits.refund(draft.community_id, draft.subject)
    return stored


async def _take_limits(limits: SubmissionLimits, draft: Draft, rules: domain.Rules) -> None:
    """Take the member's cooldown and daily cap, or refuse with the time to wait."""
    refusal = await limits.take(
        draft.community_id,
        draft.subject,
        cooldown_seconds=rules.cooldown_seconds,
        daily_cap=rules.daily_cap,
    )
    if refusal is None:
        return
    wait = format_duration(max(1, -(-refusal.wait_ms // 60_000)) * 60)
    if refusal.cap:
        raise MemberRefusal(
            f"You have sent {rules.daily_cap} confessions today, the daily limit here. "
            f"You can send the next one in about {wait}."
        )
    raise MemberRefusal(f"Please wait about {wait} before your next confession.")
