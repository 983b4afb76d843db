"""The moderation decision's SQL (ModerateConfession): one statement when it wins.

The transition is a conditional UPDATE (``WHERE status = 'pending'``): Postgres
makes a second UPDATE of the row wait for the first and then re-check the
condition on the new version, which no longer matches, so of racing admins
exactly one wins. In the same statement, only when it won an approval: the
author's "approved" counter (counted exactly once) and, with a publishing
interval, the next free posting moment (the rules row is updated from its
latest version, so a burst of approvals takes one interval each). The
community's channel and bot ride along for the follow-up. A losing call reads
the decision that stands in a second statement (a fresh snapshot, which sees
the winner's commit). The statements are compiled once, at import, and run
on asyncpg (veil.core.statements).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from services.confessions.rows import ConfessionRow, Decision
from services.confessions.sealed import MemberSeal
from veil.core.db import Database
from veil.core.statements import Statement

_COLUMNS = (
    "id, number, community_id, text, status, created_at, media_kind, file_id, "
    "member_id, moderated_by, decision, reject_reason"
)

# The community's /settings previews (off without a rules row): the post's link previews.
_PREVIEWS = (
    "COALESCE((SELECT link_previews FROM community_rules "
    "WHERE community_id = {c}.community_id), false) AS link_previews"
)

_DECIDE = Statement(
    text(
        f"""
WITH t AS (
    UPDATE confessions
    SET status = :to, moderated_by = :moderator, decision = :decision,
        moderated_at = now(), reject_reason = :reason, updated_at = now()
    WHERE id = :confession_id AND community_id = :community_id AND status = 'pending'
    RETURNING {_COLUMNS}
), counted AS (
    UPDATE members SET confessions_approved = confessions_approved + 1
    WHERE id = (SELECT member_id FROM t WHERE status = 'approved')
), slot AS (
    UPDATE community_rules
    SET next_publish_at = GREATEST(now(), COALESCE(next_publish_at, now()))
        + make_interval(mins => publish_interval_minutes)
    WHERE community_id = :community_id AND publish_interval_minutes > 0
      AND EXISTS (SELECT 1 FROM t WHERE status = 'approved')
    RETURNING next_publish_at - make_interval(mins => publish_interval_minutes) AS publish_at
)
SELECT t.*, a.lookup AS author_lookup, a.data_key AS author_key, a.chat AS author_chat,
       k.bot_username, k.channel_chat_id, {_PREVIEWS.format(c="t")},
       (SELECT publish_at FROM slot) AS publish_at, now() AS now
FROM t JOIN communities k ON k.id = t.community_id
LEFT JOIN members a ON a.id = t.member_id
"""
    ),
    "decide",
)

_CURRENT = Statement(
    text(
        f"""
SELECT c.{_COLUMNS.replace(", ", ", c.")},
       a.lookup AS author_lookup, a.data_key AS author_key, a.chat AS author_chat,
       k.bot_username, k.channel_chat_id, {_PREVIEWS.format(c="c")}
FROM confessions c JOIN communities k ON k.id = c.community_id
LEFT JOIN members a ON a.id = c.member_id
WHERE c.id = :confession_id AND c.community_id = :community_id
"""
    ),
    "decision_current",
)


@dataclass(frozen=True)
class Decided:
    """A decision and where its follow-up goes."""

    decision: Decision
    bot_username: str
    channel_chat_id: int
    # /settings previews: channel posts show link previews (default off).
    link_previews: bool = False


def _decided(row: Any, seal: MemberSeal, *, won: bool) -> Decided:
    publish_at = row.get("publish_at") if won else None
    if publish_at is not None and publish_at <= row["now"]:
        # The interval has passed since the last post: publish at once.
        publish_at = None
    decision = Decision(
        won=won,
        confession=ConfessionRow.of(row),
        moderator=row["moderated_by"] or "",
        decision=row["decision"] or "",
        reason=row["reject_reason"] or "",
        member_id=int(row["member_id"] or 0),
        author_telegram_id=seal.author_chat(int(row["community_id"]), row),
        publish_at=publish_at,
    )
    return Decided(
        decision, row["bot_username"], int(row["channel_chat_id"]), bool(row["link_previews"])
    )


async def decide(
    db: Database,
    seal: MemberSeal,
    community_id: int,
    confession_id: int,
    *,
    to: str,
    decision: str,
    moderator: str,
    reason: str,
) -> Decided | None:
    """Move a pending confession to ``to``; of concurrent calls exactly one wins.

    None when the confession does not exist in the community.
    """
    async with db.connection() as conn:
        row = await _DECIDE.fetchrow(
            conn,
            community_id=community_id,
            confession_id=confession_id,
            to=to,
            decision=decision,
            moderator=moderator,
            reason=reason or None,
        )
        if row is not None:
            return _decided(row, seal, won=True)
        current = await _CURRENT.fetchrow(
            conn, community_id=community_id, confession_id=confession_id
        )
    return None if current is None else _decided(current, seal, won=False)
