"""RegisterMember's SQL: the member found or created, their ban
(and shadow ban), and a thread's confession.

Every update the gateway handles resolves its member here, so its statements
are compiled once, at import, and run on asyncpg (veil.core.statements). An
existing member (nearly every call) costs one round trip and no sealing beyond
the lookup hash: the member row found by its lookup, the subject's ban in force
(the longest of several; by subject, so it outlives the member's erasure) and,
when the update is about a thread, that thread's confession (a thread page then
needs no GetConfession call). Only when no row is found is a data key minted
and wrapped, and the upsert (``xmax = 0`` tells a fresh insert from a racing
one) runs with the same reads. On the primary: a member sees their own row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import text

from services.confessions.rows import BanRow, ConfessionRow, MemberRow
from services.confessions.safety_rules import SafetyRules
from services.confessions.sealed import MemberSeal
from veil.core.db import Database
from veil.core.errors import CommunityNotFoundError
from veil.core.statements import Statement
from veil.v1 import common_pb2

# The reads that ride with the member row ``m``: ban, shadow ban, thread, rules.
_WITH_MEMBER = """
SELECT m.id, m.created, m.notifications_enabled, m.unreachable,
       m.created_at AS joined_at, m.confessions_approved,
       r.filter_words, r.filter_action, r.max_length, r.pii_action, r.filter_comments,
       r.report_threshold, r.link_previews,
       b.id AS ban_id, b.label, b.reason, b.until, b.created_at,
       c.id AS c_id, c.number AS c_number, c.community_id AS c_community_id,
       c.text AS c_text, c.status AS c_status, c.created_at AS c_created_at,
       c.media_kind AS c_media_kind, c.file_id AS c_file_id,
       c.member_id AS c_author, c.channel_message_id AS c_channel_message_id,
       EXISTS (
           SELECT 1 FROM bans
           WHERE community_id = :community_id AND subject = :subject AND shadow
             AND (until IS NULL OR until > now())
       ) AS shadowed
FROM m
LEFT JOIN LATERAL (
    SELECT id, label, reason, until, created_at FROM bans
    WHERE community_id = :community_id AND subject = :subject
      AND (until IS NULL OR until > now()) AND NOT shadow
    ORDER BY until DESC NULLS FIRST
    LIMIT 1
) b ON true
LEFT JOIN confessions c ON c.community_id = :community_id AND c.number = :thread_number
LEFT JOIN community_rules r ON r.community_id = :community_id AND :thread_number <> 0
"""

_MEMBER_COLUMNS = """id, notifications_enabled, unreachable_since IS NOT NULL AS unreachable,
              created_at, confessions_approved"""

# An existing member: no row when there is none (nor a community).
_FIND = Statement(
    text(
        f"""
WITH m AS (
    SELECT {_MEMBER_COLUMNS}, false AS created FROM members
    WHERE community_id = :community_id AND lookup = :lookup
)
{_WITH_MEMBER}"""
    ),
    "register_find",
)

# A new member (or one that a concurrent call created a moment ago).
_REGISTER = Statement(
    text(
        f"""
WITH m AS (
    INSERT INTO members (community_id, lookup, data_key, chat)
    VALUES (:community_id, :lookup, :data_key, :chat)
    ON CONFLICT ON CONSTRAINT members_community_lookup_key
    DO UPDATE SET lookup = EXCLUDED.lookup
    RETURNING {_MEMBER_COLUMNS}, xmax = 0 AS created
)
{_WITH_MEMBER}"""
    ),
    "register_upsert",
)


@dataclass(frozen=True)
class ThreadRow:
    """A thread's confession, its author's internal id and its channel post."""

    confession: ConfessionRow
    author_member_id: int
    channel_message_id: int
    # The community's rules for comments and reports (a thread is where they apply).
    comment_rules: common_pb2.CommentRules


def _thread(row: Any) -> ThreadRow | None:
    if row["c_id"] is None:
        return None
    return ThreadRow(
        ConfessionRow.of(row, "c_"),
        int(row["c_author"] or 0),
        int(row["c_channel_message_id"] or 0),
        SafetyRules.of(row).comment_rules(
            tuple(row["filter_words"] or ()),
            row["filter_action"] or "flag",
            int(row["max_length"] or 4000),
        ),
    )


async def register_member(
    db: Database,
    seal: MemberSeal,
    community_id: int,
    telegram_user_id: int,
    subject: str,
    thread_number: int = 0,
) -> tuple[MemberRow, ThreadRow | None]:
    """Find or create the member (with settings, reachability and ban in force);
    with ``thread_number``, that thread's confession too (None when there is none)."""
    lookup = seal.lookup(community_id, telegram_user_id)
    params = {
        "community_id": community_id,
        "lookup": lookup,
        "subject": subject,
        "thread_number": thread_number,
    }
    async with db.connection() as conn:
        row = await _FIND.fetchrow(conn, **params)
        if row is None:
            # Only a new member's sealed columns cost a data key and its wrapping.
            sealed = seal.new_member(community_id, telegram_user_id, lookup=lookup)
            try:
                row = await _REGISTER.fetchrow(conn, **{**params, **sealed})
            except asyncpg.ForeignKeyViolationError as error:
                # The only constraint an upsert can break here is the community FK.
                raise CommunityNotFoundError(community_id) from error
    assert row is not None
    ban = None
    if row["ban_id"] is not None:
        ban = BanRow(
            id=int(row["ban_id"]),
            label=row["label"],
            reason=row["reason"],
            until=row["until"],
            created_at=row["created_at"],
        )
    member = MemberRow(
        id=int(row["id"]),
        created=bool(row["created"]),
        notifications_enabled=bool(row["notifications_enabled"]),
        unreachable=bool(row["unreachable"]),
        ban=ban,
        joined_at=row["joined_at"],
        confessions_approved=int(row["confessions_approved"]),
        shadowed=bool(row["shadowed"]),
    )
    return member, _thread(row)
