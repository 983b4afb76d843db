"""Communities' stored sending limits."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from services.notifier.models import community_limits
from services.notifier.repository.base import RepositoryBase
from services.notifier.repository.rows import (
    LimitsRow,
)


class Limits(RepositoryBase):
    """Reads and writes of ``community_limits``."""

    async def set_limits(self, row: LimitsRow) -> None:
        """Store a community's limits (None clears one back to the default)."""
        values = {
            "per_second": row.per_second,
            "per_private_chat_per_second": row.per_private_chat_per_second,
            "per_group_per_minute": row.per_group_per_minute,
        }
        async with self._db.write() as conn:
            await conn.execute(
                insert(community_limits)
                .values(community_id=row.community_id, **values)
                .on_conflict_do_update(
                    index_elements=[community_limits.c.community_id],
                    set_={**values, "updated_at": func.now()},
                )
            )

    async def get_limits(self, community_id: int) -> LimitsRow | None:
        """A community's stored limits, if any (primary: an operator sees their change)."""
        async with self._db.read_own() as conn:
            row = (
                await conn.execute(
                    select(community_limits).where(community_limits.c.community_id == community_id)
                )
            ).one_or_none()
        return None if row is None else _limits_row(row)

    async def all_limits(self) -> list[LimitsRow]:
        """Every stored community limit."""
        async with self._db.read() as conn:
            rows = await conn.execute(select(community_limits))
            return [_limits_row(r) for r in rows]


def _limits_row(row: Any) -> LimitsRow:
    return LimitsRow(
        community_id=int(row.community_id),
        per_second=row.per_second,
        per_private_chat_per_second=row.per_private_chat_per_second,
        per_group_per_minute=row.per_group_per_minute,
    )
