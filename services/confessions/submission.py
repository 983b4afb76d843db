"""The submission's SQL (SubmitConfession): two statements, no lock held between them.

1. :func:`intake` reads, in one round trip, what every check needs: the
   community (its admin chat, for the card), its rules, the confession already
   stored under the idempotency key (a retry) with its author's history, and
   otherwise the member (found or created) with their ban in force.
2. :func:`store` takes the community's next number, inserts the confession,
   counts it on the member and reads the author's history for the card, in one
   statement: the community row is locked only while that statement runs (no
   lock convoy across round trips), and "#N" stays gap-free because a failed
   insert rolls the counter back with it. A concurrent retry of the same key
   breaks the unique key, which aborts the whole statement; the caller then
   finds the first attempt's row with :func:`intake`.

Both run outside an explicit transaction (each statement is atomic), so no
BEGIN/COMMIT round trips. The statements are compiled once, at import, and run
on asyncpg (veil.core.statements).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import text

from services.confessions.domain import DEFAULT_REASONS, Rules
from services.confessions.rows import ConfessionRow, Submission
from services.confessions.safety_rules import SafetyRules
from services.confessions.sealed import MemberSeal
from veil.core.db import Database
from veil.core.errors import CommunityNotFoundError
from veil.core.statements import Statement

# The history shown on an admins' card: the author's earlier decided confessions.
_HISTORY = (
    "count(*) FILTER (WHERE status IN ('approved', 'published')) AS approved, "
    "count(*) FILTER (WHERE status = 'rejected') AS rejected"
)

_INTAKE = Statement(
    text(
        f"""
WITH found AS (
    SELECT id, number, community_id, text, status, created_at, media_kind, file_id,
           member_id, flagged_word, pii_found, author_shadowed
    FROM confessions
    WHERE community_id = :community_id AND idempotency_key = :key
), m AS (
    INSERT INTO members (community_id, lookup, data_key, chat)
    SELECT CAST(:community_id AS bigint), CAST(:lookup AS bytea), CAST(:data_key AS bytea),
           CAST(:chat AS bytea)
    WHERE NOT EXISTS (SELECT 1 FROM found)
    ON CONFLICT ON CONSTRAINT members_community_lookup_key
    DO UPDATE SET lookup = EXCLUDED.lookup
    RETURNING id
)
SELECT k.admin_chat_id,
       r.cooldown_seconds, r.daily_cap, r.max_length, r.filter_words, r.filter_action,
       r.pii_action,
       (SELECT id FROM m) AS member_id,
       b.id AS ban_id, b.until AS ban_until,
       f.id IS NULL AND EXISTS (
           SELECT 1 FROM bans
           WHERE community_id = k.id AND subject = :subject AND shadow
             AND (until IS NULL OR until > now())
       ) AS shadowed,
       f.id, f.number, f.community_id, f.text, f.status, f.created_at, f.media_kind,
       f.file_id, f.flagged_word, f.pii_found, f.author_shadowed,
       h.approved, h.rejected
FROM communities k
LEFT JOIN community_rules r ON r.community_id = k.id
LEFT JOIN found f ON true
LEFT JOIN LATERAL (
    SELECT id, until FROM bans
    WHERE community_id = k.id AND subject = :subject AND (until IS NULL OR until > now())
      AND NOT shadow
    ORDER BY until DESC NULLS FIRST
    LIMIT 1
) b ON f.id IS NULL
LEFT JOIN LATERAL (
    SELECT {_HISTORY} FROM confessions
    WHERE member_id = f.member_id AND id < f.id
) h ON f.id IS NOT NULL
WHERE k.id = :community_id
"""
    ),
    "submission_intake",
)

_STORE = Statement(
    text(
        f"""
WITH n AS (
    UPDATE communities SET last_number = last_number + 1
    WHERE id = :community_id
    RETURNING last_number
), c AS (
    INSERT INTO confessions
        (community_id, number, member_id, text, idempotency_key, flagged_word,
         media_kind, file_id, pii_found, author_shadowed)
    SELECT CAST(:community_id AS bigint), n.last_number, CAST(:member_id AS bigint),
           CAST(:text AS text), CAST(:key AS text), CAST(:flagged_word AS text),
           CAST(:media_kind AS text), CAST(:file_id AS text), CAST(:pii_found AS text),
           CAST(:shadowed AS boolean)
    FROM n
    RETURNING id, number, community_id, text, status, created_at, media_kind, file_id,
              author_shadowed
), sent AS (
    UPDATE members SET confessions_sent = confessions_sent + 1
    WHERE id = :member_id AND EXISTS (SELECT 1 FROM c)
)
SELECT c.*, h.approved, h.rejected
FROM c CROSS JOIN LATERAL (
    SELECT {_HISTORY} FROM confessions WHERE member_id = :member_id
) h
"""
    ),
    "submission_store",
)

# A retry's row and its author's history (after a concurrent retry won the key).
_FOUND = Statement(
    text(
        f"""
SELECT f.id, f.number, f.community_id, f.text, f.status, f.created_at, f.media_kind,
       f.file_id, f.flagged_word, f.pii_found, f.author_shadowed, h.approved, h.rejected
FROM confessions f
CROSS JOIN LATERAL (
    SELECT {_HISTORY} FROM confessions
    WHERE member_id = f.member_id AND id < f.id
) h
WHERE f.community_id = :community_id AND f.idempotency_key = :key
"""
    ),
    "submission_found",
)


@dataclass(frozen=True)
class Intake:
    """What a submission is checked against, or the retried one already stored."""

    admin_chat_id: int
    rules: Rules
    # Set when the key was used before (then member_id and ban_until are unset).
    existing: Submission | None
    member_id: int
    banned: bool
    ban_until: datetime | None
    # The author is shadow-banned: the card is marked.
    shadowed: bool = False


def _rules(row: Any) -> Rules:
    if row["cooldown_seconds"] is None:
        return Rules()
    return Rules(
        cooldown_seconds=row["cooldown_seconds"],
        daily_cap=row["daily_cap"],
        max_length=row["max_length"],
        filter_words=tuple(row["filter_words"] or ()),
        filter_action=row["filter_action"],
        # Reasons and the publishing interval play no part in a submission.
        reject_reasons=DEFAULT_REASONS,
        safety=SafetyRules(pii_action=row["pii_action"]),
    )


def _submission(
    row: Any, *, created: bool, flagged_word: str | None, pii_found: str | None
) -> Submission:
    return Submission(
        ConfessionRow.of(row),
        created,
        int(row["approved"] or 0),
        int(row["rejected"] or 0),
        flagged_word,
        pii_found,
        bool(row.get("author_shadowed") or False),
    )


async def intake(
    db: Database,
    seal: MemberSeal,
    community_id: int,
    telegram_user_id: int,
    subject: str,
    key: str,
) -> Intake:
    """One round trip: the community, its rules, and the retried submission or the member.

    On the primary: a member who changed a rule or was banned a moment ago is
    judged by it. The member is upserted only when the key is new.
    """
    params: dict[str, Any] = {
        "community_id": community_id,
        # A new member's sealed columns (used only when the member is new): a
        # few dozen microseconds, less than a second round trip to find out.
        **seal.new_member(community_id, telegram_user_id),
        "subject": subject,
        "key": key,
    }
    try:
        # One statement on the primary, committing by itself.
        row = await db.fetchrow(_INTAKE, **params)
    except asyncpg.ForeignKeyViolationError as error:
        # The only constraint the member upsert can break is the community FK.
        raise CommunityNotFoundError(community_id) from error
    if row is None:
        raise CommunityNotFoundError(community_id)
    existing = None
    if row["id"] is not None:
        existing = _submission(
            row, created=False, flagged_word=row["flagged_word"], pii_found=row["pii_found"]
        )
    return Intake(
        admin_chat_id=int(row["admin_chat_id"]),
        rules=_rules(row),
        existing=existing,
        member_id=int(row["member_id"] or 0),
        banned=row["ban_id"] is not None,
        ban_until=row["ban_until"],
        shadowed=bool(row["shadowed"]),
    )


async def store(
    db: Database,
    community_id: int,
    member_id: int,
    text_: str,
    key: str,
    *,
    media: tuple[str, str] | None = None,
    flagged_word: str | None = None,
    pii_found: str | None = None,
    shadowed: bool = False,
) -> Submission:
    """Store a pending confession under the next number; one statement.

    A concurrent retry with the same key finds the first attempt's row
    (``created`` false).
    """
    params: dict[str, Any] = {
        "community_id": community_id,
        "member_id": member_id,
        "text": text_,
        "key": key,
        "flagged_word": flagged_word,
        "pii_found": pii_found,
        "media_kind": media[0] if media else None,
        "file_id": media[1] if media else None,
        "shadowed": shadowed,
    }
    try:
        row = await db.fetchrow(_STORE, **params)
    except asyncpg.IntegrityConstraintViolationError:
        retried = await _stored(db, community_id, key)
        if retried is None:
            raise
        return retried
    if row is None:
        raise CommunityNotFoundError(community_id)
    return _submission(row, created=True, flagged_word=flagged_word, pii_found=pii_found)


async def _stored(db: Database, community_id: int, key: str) -> Submission | None:
    """The confession another attempt stored under ``key``, if any."""
    # On the primary: the other attempt committed a moment ago.
    found = await db.fetchrow(_FOUND, community_id=community_id, key=key)
    if found is None:
        return None
    return _submission(
        found, created=False, flagged_word=found["flagged_word"], pii_found=found["pii_found"]
    )
