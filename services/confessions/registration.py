"""RegisterMember's SQL: the member found or created, their ban
(and shadow ban), and a thread's confession.

Every update the gateway handles resolves its member here, so the statement is
built once, at import, and is one round trip: the upsert (``xmax = 0`` tells a
fresh insert from an update), the subject's ban in force (the longest of
several; by subject, so it outlives the member's erasure) and, when the update
is about a thread, that thread's confession (a thread page then needs no
GetConfession call). On the primary: the member row is written anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import RowMapping, text
from sqlalchemy.exc import IntegrityError

from services.confessions.rows import BanRow, ConfessionRow, MemberRow
from services.confessions.safety_rules import SafetyRules
from services.confessions.sealed import MemberSeal
from veil.core.db import Database
from veil.core.errors import CommunityNotFoundError
from veil.v1 import common_pb2

_REGISTER = text(
    """
WITH m AS (
    INSERT INTO members (community_id, lookup, data_key, chat)
    VALUES (:community_id, :lookup, :data_key, :chat)
    ON CONFLICT ON CONSTRAINT members_community_lookup_key
    DO UPDATE SET lookup = EXCLUDED.lookup
    RETURNING id, xmax = 0 AS created, notifications_enabled,
              unreachable_since IS NOT NULL AS unreachable, created_at, confessions_approved
)
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
)


@dataclass(frozen=True)
class ThreadRow:
    """A thread's confession, its author's internal id and its channel post."""

    confession: ConfessionRow
    author_member_id: int
    channel_message_id: int
    # The community's rules for comments and reports (a thread is where they apply).
    comment_rules: common_pb2.CommentRules


def _thread(row: RowMapping) -> ThreadRow | None:
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
    # A new member's sealed columns; an existing member keeps theirs.
    params = {
        "community_id": community_id,
        **seal.new_member(community_id, telegram_user_id),
        "subject": subject,
        "thread_number": thread_number,
    }
    try:
        async with db.write_one() as conn:
            row = (await conn.execute(_REGISTER, params)).mappings().one()
    except IntegrityError as error:
        # The only constraint an upsert can break here is the community FK.
        raise CommunityNotFoundError(community_id) from error
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
