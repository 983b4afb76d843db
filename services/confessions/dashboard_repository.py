"""SQL behind the moderation Mini App: the pending queue, a card rebuilt, figures.

Kept apart from :mod:`services.confessions.confessions_repository`; nothing here reads or
returns a member's identity (only counts of members).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Date, and_, cast, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.confessions.confessions_repository import CONFESSION_COLUMNS
from services.confessions.models import confessions
from services.confessions.rows import ConfessionRow
from veil.core.db import Database


@dataclass(frozen=True)
class PendingRow:
    """A confession waiting for a decision, the word and the personal
    information that flagged it."""

    confession: ConfessionRow
    flagged_word: str | None
    pii_found: str | None = None


@dataclass(frozen=True)
class CardRow:
    """What rebuilds a confession's card: the confession, its author's history then."""

    confession: ConfessionRow
    approved: int
    rejected: int
    flagged_word: str | None
    pii_found: str | None = None
    shadowed: bool = False


@dataclass(frozen=True)
class Figures:
    """A community's figures over a period."""

    per_day: list[tuple[date, int]]
    approved: int
    rejected: int
    median_decision_seconds: float
    confessing_members: int
    pending: int
    numbers: dict[int, int]


class DashboardRepository:
    """Queries of the Mini App on the confessions schema."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def pending(self, community_id: int, limit: int) -> tuple[list[PendingRow], int]:
        """The oldest ``limit`` pending confessions and how many are pending.

        Read on the primary: an admin who just decided must not see the
        confession again in the queue.
        """
        where = and_(confessions.c.community_id == community_id, confessions.c.status == "pending")
        async with self._db.read_own() as conn:
            rows = (
                await conn.execute(
                    select(*CONFESSION_COLUMNS, confessions.c.flagged_word, confessions.c.pii_found)
                    .where(where)
                    .order_by(confessions.c.id)
                    .limit(limit)
                )
            ).mappings()
            listed = [
                PendingRow(ConfessionRow.of(r), r["flagged_word"], r["pii_found"]) for r in rows
            ]
            total = (await conn.execute(select(func.count()).where(where))).scalar_one()
        return listed, int(total)

    async def card(self, community_id: int, confession_id: int) -> CardRow | None:
        """The confession's card as it was sent (the author's history as of then)."""
        async with self._db.read_own() as conn:
            found = (
                (
                    await conn.execute(
                        select(
                            *CONFESSION_COLUMNS,
                            confessions.c.member_id,
                            confessions.c.flagged_word,
                            confessions.c.pii_found,
                            confessions.c.author_shadowed,
                        ).where(
                            confessions.c.id == confession_id,
                            confessions.c.community_id == community_id,
                        )
                    )
                )
                .mappings()
                .one_or_none()
            )
            if found is None:
                return None
            approved, rejected = await _history(conn, found["member_id"], confession_id)
        return CardRow(
            ConfessionRow.of(found),
            approved,
            rejected,
            found["flagged_word"],
            found["pii_found"],
            bool(found["author_shadowed"]),
        )

    async def numbers(self, community_id: int, ids: Sequence[int]) -> dict[int, int]:
        """confession id -> number for the community's confessions among ``ids`` (replica)."""
        async with self._db.read() as conn:
            return await _numbers(conn, community_id, ids)

    async def figures(self, community_id: int, days: int, number_of: Sequence[int]) -> Figures:
        """Figures of the last ``days`` days (UTC, today included); read on the replica."""
        today = datetime.now(UTC).date()
        first = today - timedelta(days=days - 1)
        since = datetime.combine(first, datetime.min.time(), UTC)
        mine = confessions.c.community_id == community_id
        day = cast(func.timezone("UTC", confessions.c.created_at), Date)
        async with self._db.read() as conn:
            counted = dict(
                (
                    await conn.execute(
                        select(day, func.count())
                        .where(mine, confessions.c.created_at >= since)
                        .group_by(day)
                    )
                ).all()
            )
            decided = (
                await conn.execute(
                    select(
                        func.count().filter(confessions.c.decision == "approve"),
                        func.count().filter(confessions.c.decision.in_(("reject", "ban"))),
                        func.percentile_cont(0.5).within_group(
                            func.extract(
                                "epoch", confessions.c.moderated_at - confessions.c.created_at
                            )
                        ),
                    ).where(mine, confessions.c.moderated_at >= since)
                )
            ).one()
            members = (
                await conn.execute(
                    select(func.count(func.distinct(confessions.c.member_id))).where(
                        mine, confessions.c.created_at >= since
                    )
                )
            ).scalar_one()
            pending = (
                await conn.execute(
                    select(func.count()).where(mine, confessions.c.status == "pending")
                )
            ).scalar_one()
            numbers = await _numbers(conn, community_id, number_of)
        return Figures(
            per_day=[
                (first + timedelta(days=i), int(counted.get(first + timedelta(days=i), 0)))
                for i in range(days)
            ],
            approved=int(decided[0]),
            rejected=int(decided[1]),
            median_decision_seconds=float(decided[2] or 0.0),
            confessing_members=int(members),
            pending=int(pending),
            numbers=numbers,
        )


async def _numbers(conn: AsyncConnection, community_id: int, ids: Sequence[int]) -> dict[int, int]:
    """confession id -> number, for those of ``ids`` that are the community's."""
    if not ids:
        return {}
    rows = await conn.execute(
        select(confessions.c.id, confessions.c.number).where(
            confessions.c.community_id == community_id, confessions.c.id.in_(list(ids))
        )
    )
    return {int(i): int(n) for i, n in rows.all()}


async def _history(conn: AsyncConnection, member_id: int | None, before_id: int) -> tuple[int, int]:
    """(approved, rejected) confessions of the author before this one, as the card shows."""
    if member_id is None:
        return 0, 0
    row = (
        await conn.execute(
            select(
                func.count().filter(confessions.c.status.in_(("approved", "published"))),
                func.count().filter(confessions.c.status == "rejected"),
            ).where(confessions.c.member_id == member_id, confessions.c.id < before_id)
        )
    ).one()
    return int(row[0]), int(row[1])


__all__ = ["CardRow", "DashboardRepository", "Figures", "PendingRow"]
