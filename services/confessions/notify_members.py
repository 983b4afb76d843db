"""NotifyMembers' SQL: the activity counted and the recipients read in one statement.

A comment's NotifyMembers carries the writer's "comments written" and the
notices to the thread's author and the replied-to writer. The activity is
counted once per event key (the event row is claimed in a CTE and the counters
move only when the claim inserted it, as ``record_activity`` does) and the
recipients' chats and settings are read, on the primary (a member who just
turned notices off must not get the next one), in the same statement: one round
trip instead of two. The recipients are read as they were before the statement
(its snapshot), which the counters do not concern. Built once, at import.

A recipient's chat is sealed under the member's data key (services/confessions/
sealed.py): the statement reads the sealed columns and the chat is opened here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text

from services.confessions.rows import Recipient
from services.confessions.sealed import MemberSeal
from veil.core.db import Database
from veil.core.statements import Statement
from veil.v1 import confessions_pb2 as pb

_COUNT_AND_READ = Statement(
    text(
        """
WITH claimed AS (
    INSERT INTO member_events (member_id, event_key)
    SELECT m.id, CAST(:digest AS text) FROM members m
    WHERE CAST(:counting AS boolean)
      AND m.community_id = :activity_community AND m.id = :activity_member
    ON CONFLICT DO NOTHING
    RETURNING member_id
), counted AS (
    UPDATE members
    SET comments_written = greatest(comments_written + :comments_written, 0),
        reactions_received = greatest(reactions_received + :reactions_received, 0)
    WHERE id IN (SELECT member_id FROM claimed)
)
SELECT m.community_id, m.id, m.lookup, m.data_key, m.chat, m.notifications_enabled,
       m.unreachable_since IS NOT NULL AS unreachable
FROM members m
JOIN unnest(CAST(:communities AS bigint[]), CAST(:members AS bigint[])) AS k(community_id, id)
  ON m.community_id = k.community_id AND m.id = k.id
"""
    ),
    "notify_members",
)


async def count_and_read(
    db: Database,
    seal: MemberSeal,
    activity: pb.RecordMemberActivityRequest | None,
    keys: Sequence[tuple[int, int]],
) -> dict[tuple[int, int], Recipient]:
    """Count ``activity`` (once per event key) and read the recipients by (community
    id, member id), their chats opened with ``seal``: one statement."""
    unique = sorted(set(keys))
    params: dict[str, Any] = {
        "counting": activity is not None,
        "activity_community": activity.community_id if activity is not None else 0,
        "activity_member": activity.member_id if activity is not None else 0,
        # The same digest as record_activity: one event counts once either way.
        "digest": hashlib.sha256(activity.event_key.encode()).hexdigest()[:32]
        if activity is not None
        else "",
        "comments_written": activity.comments_written if activity is not None else 0,
        "reactions_received": activity.reactions_received if activity is not None else 0,
        "communities": [c for c, _ in unique],
        "members": [m for _, m in unique],
    }
    # One statement on the primary, committing by itself.
    rows = await db.fetch(_COUNT_AND_READ, **params)
    return {
        (int(r["community_id"]), int(r["id"])): Recipient(
            telegram_user_id=seal.chat_id(
                int(r["community_id"]), r["lookup"], r["data_key"], r["chat"]
            ),
            notifications_enabled=bool(r["notifications_enabled"]),
            unreachable=bool(r["unreachable"]),
        )
        for r in rows
    }
