"""What the social schema prunes: pacing rows long past.

A pacer (a member's notifications about one thread, a post's counter edits)
matters only until its next slot has passed; one is made per member and thread,
so without pruning the table grows for good.
"""

from __future__ import annotations

from sqlalchemy import delete, func, or_, select

from services.social.models import pacers
from veil.core.db import Database

_BATCH = 1000


async def prune_pacers(db: Database, retention_hours: float) -> dict[str, int]:
    """Delete pacers whose slots all ended more than ``retention_hours`` ago."""
    cutoff = func.now() - func.make_interval(0, 0, 0, 0, 0, 0, retention_hours * 3600)
    old = (
        select(pacers.c.key)
        .where(pacers.c.next_allowed < cutoff)
        .where(or_(pacers.c.scheduled_at.is_(None), pacers.c.scheduled_at < cutoff))
        .limit(_BATCH)
    )
    async with db.write() as conn:
        result = await conn.execute(delete(pacers).where(pacers.c.key.in_(old)))
    return {"pacers": int(result.rowcount or 0)}
