"""Paced sends (a member's notices about one thread, one channel post's counter edits).

The first send of a quiet period leaves at once; later ones within the
interval are batched into one send at the end of it. One statement: the upsert
computes the new slot from the row's latest version (``ON CONFLICT DO UPDATE``
locks it), so concurrent callers take their slots one after another, without a
transaction around a read and a write. Built once, at import.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from veil.core.db import Database

# The three cases, on the stored row: the period is quiet (leave at once), a
# batched send is waiting (join it), or a send left within the interval
# (schedule the next batch at its end).
_QUIET = "(p.scheduled_at IS NULL OR p.scheduled_at <= now()) AND p.next_allowed <= now()"
_WAITING = "p.scheduled_at IS NOT NULL AND p.scheduled_at > now()"
_INTERVAL = "make_interval(secs => CAST(:seconds AS double precision))"

_PACE = text(
    f"""
INSERT INTO pacers AS p (key, next_allowed, scheduled_at, pending)
VALUES (:key, now() + {_INTERVAL}, NULL, 0)
ON CONFLICT (key) DO UPDATE SET
    next_allowed = CASE WHEN {_QUIET} THEN now() + {_INTERVAL}
                        WHEN {_WAITING} THEN p.next_allowed
                        ELSE p.next_allowed + {_INTERVAL} END,
    scheduled_at = CASE WHEN {_QUIET} THEN NULL
                        WHEN {_WAITING} THEN p.scheduled_at
                        ELSE p.next_allowed END,
    pending = CASE WHEN {_QUIET} THEN 0
                   WHEN {_WAITING} THEN p.pending + 1
                   ELSE 1 END
RETURNING scheduled_at, pending
"""
)


@dataclass(frozen=True)
class Slot:
    """When a paced send may leave (None: now) and how many sends it stands for."""

    at: datetime | None
    pending: int


async def pace(db: Database, key: str, interval_seconds: float) -> Slot:
    """Reserve the next slot of a paced send (at most one per ``interval_seconds``)."""
    async with db.write_one() as conn:
        row = (await conn.execute(_PACE, {"key": key, "seconds": interval_seconds})).one()
    # A send that leaves at once stands for itself (the row keeps 0 pending).
    return Slot(at=row.scheduled_at, pending=max(1, int(row.pending)))
