"""Paced sends (a member's notices about one thread, one channel post's counter edits).

The first send of a quiet period leaves at once; later ones within the
interval are batched into one send at the end of it. One statement for any
number of keys: the upsert computes the new slot from the row's latest version
(``ON CONFLICT DO UPDATE`` locks it), so concurrent callers take their slots
one after another, without a transaction around a read and a write. Compiled
once, at import, and run on asyncpg (veil.core.statements).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from veil.core.db import Database
from veil.core.statements import Statement

# The three cases, on the stored row: the period is quiet (leave at once), a
# batched send is waiting (join it), or a send left within the interval
# (schedule the next batch at its end). A new row's ``next_allowed`` is now
# plus its interval, so on conflict that interval is ``EXCLUDED.next_allowed -
# now()`` (``now()`` is one value throughout a statement).
_QUIET = "(p.scheduled_at IS NULL OR p.scheduled_at <= now()) AND p.next_allowed <= now()"
_WAITING = "p.scheduled_at IS NOT NULL AND p.scheduled_at > now()"
_INTERVAL = "(EXCLUDED.next_allowed - now())"

# Several keys in one statement (a comment's counter edit and its notices),
# upserted in key order: concurrent callers lock shared rows in the same order.
_PACE = Statement(
    text(
        f"""
INSERT INTO pacers AS p (key, next_allowed, scheduled_at, pending)
SELECT k.key, now() + make_interval(secs => k.seconds), NULL, 0
FROM unnest(CAST(:keys AS text[]), CAST(:seconds AS double precision[])) AS k(key, seconds)
ORDER BY k.key
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
RETURNING key, scheduled_at, pending
"""
    ),
    "pace",
)


@dataclass(frozen=True)
class Slot:
    """When a paced send may leave (None: now) and how many sends it stands for."""

    at: datetime | None
    pending: int


async def pace(db: Database, key: str, interval_seconds: float) -> Slot:
    """Reserve the next slot of a paced send (at most one per ``interval_seconds``)."""
    return (await pace_many(db, {key: interval_seconds}))[key]


async def pace_many(db: Database, intervals: Mapping[str, float]) -> dict[str, Slot]:
    """Reserve the next slot of each key's paced send, in one statement.

    ``intervals`` maps each key to its interval in seconds.
    """
    if not intervals:
        return {}
    # One statement on the primary, committing by itself.
    rows = await db.fetch(
        _PACE, keys=list(intervals), seconds=[float(s) for s in intervals.values()]
    )
    # A send that leaves at once stands for itself (the row keeps 0 pending).
    return {
        row["key"]: Slot(at=row["scheduled_at"], pending=max(1, int(row["pending"])))
        for row in rows
    }
