"""Queue depth, status counts and dead-letter figures for metrics and operators."""

from __future__ import annotations

from sqlalchemy import func, select

from services.notifier.models import dead_letters, outbox
from services.notifier.repository.base import RepositoryBase
from services.notifier.repository.rows import (
    QUEUED,
    SENDING,
    DeadLetterStatRow,
    QueueStatRow,
    StatusCountRow,
)


class Stats(RepositoryBase):
    """Aggregates over the outbox and the dead letters."""

    async def queue_stats(self) -> list[QueueStatRow]:
        """Depth and oldest age per (community, priority) of unsent messages."""
        statement = (
            select(
                outbox.c.community_id,
                outbox.c.priority,
                func.count().label("depth"),
                func.extract("epoch", func.now() - func.min(outbox.c.created_at)).label("age"),
            )
            .where(outbox.c.status.in_([QUEUED, SENDING]))
            .group_by(outbox.c.community_id, outbox.c.priority)
            .order_by(outbox.c.community_id, outbox.c.priority)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(statement)).all()
        return [
            QueueStatRow(int(r.community_id), int(r.priority), int(r.depth), float(r.age))
            for r in rows
        ]

    async def status_counts(self) -> list[StatusCountRow]:
        """Messages per community and status."""
        statement = (
            select(outbox.c.community_id, outbox.c.status, func.count().label("n"))
            .group_by(outbox.c.community_id, outbox.c.status)
            .order_by(outbox.c.community_id, outbox.c.status)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(statement)).all()
        return [StatusCountRow(int(r.community_id), str(r.status), int(r.n)) for r in rows]

    async def dead_letter_stats(self, limit: int = 50) -> list[DeadLetterStatRow]:
        """Dead letters per community, error code and description, most frequent first."""
        statement = (
            select(
                dead_letters.c.community_id,
                dead_letters.c.error_code,
                dead_letters.c.description,
                func.count().label("n"),
                func.max(dead_letters.c.created_at).label("latest"),
            )
            .group_by(
                dead_letters.c.community_id, dead_letters.c.error_code, dead_letters.c.description
            )
            .order_by(func.count().desc(), dead_letters.c.community_id)
            .limit(limit)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(statement)).all()
        return [
            DeadLetterStatRow(
                int(r.community_id), int(r.error_code), str(r.description), int(r.n), r.latest
            )
            for r in rows
        ]
