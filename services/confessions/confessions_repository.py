"""SQL of ConfessionsService: a member's list, one confession, its publication.

The hot-path statements of submission and decision have their own modules
(:mod:`services.confessions.submission`, :mod:`services.confessions.decision`);
the Mini App's queue and figures are in :mod:`services.confessions.dashboard_repository`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, or_, select, update

from services.confessions.models import confessions, members
from services.confessions.rows import ConfessionRow
from services.confessions.sealed import MemberSeal
from veil.core.db import Database

# The columns of a ConfessionRow.
CONFESSION_COLUMNS = (
    confessions.c.id,
    confessions.c.number,
    confessions.c.community_id,
    confessions.c.text,
    confessions.c.status,
    confessions.c.created_at,
    confessions.c.media_kind,
    confessions.c.file_id,
)


def _author_sealed() -> list[Any]:
    """The author's sealed chat (MemberSeal.author_chat opens it), correlated to the confession."""
    return [
        select(column)
        .where(members.c.id == confessions.c.member_id)
        .scalar_subquery()
        .label(f"author_{name}")
        for name, column in (
            ("lookup", members.c.lookup),
            ("key", members.c.data_key),
            ("chat", members.c.chat),
        )
    ]


class ConfessionsRepository:
    """Reads and writes of ``confessions`` outside the hot-path statement modules."""

    def __init__(self, db: Database, seal: MemberSeal) -> None:
        self._db = db
        self.seal = seal

    @property
    def db(self) -> Database:
        """The engines, for the hot-path statements kept in their own modules
        (submission.py, decision.py)."""
        return self._db

    async def list_member_confessions(
        self, community_id: int, telegram_user_id: int, limit: int, offset: int
    ) -> tuple[list[ConfessionRow], int]:
        """A page of the member's confessions, newest first, and their total.

        One statement: the member lookup is a join and the total a window count.
        Read on the primary, because the member has usually just submitted one.
        """
        statement = (
            select(*CONFESSION_COLUMNS, func.count().over().label("total"))
            .join(members, members.c.id == confessions.c.member_id)
            .where(members.c.community_id == community_id)
            .where(members.c.lookup == self.seal.lookup(community_id, telegram_user_id))
            .where(confessions.c.status != "deleted")
            .order_by(confessions.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        async with self._db.read_own() as conn:
            rows = (await conn.execute(statement)).mappings().all()
        total = int(rows[0]["total"]) if rows else 0
        return [ConfessionRow.of(row) for row in rows], total

    async def get_confession(
        self, community_id: int, number: int, confession_id: int = 0
    ) -> tuple[ConfessionRow, int, int] | None:
        """A confession by its public number (or internal id): (row, author's member id,
        channel message id)."""
        which = (
            confessions.c.id == confession_id if confession_id else confessions.c.number == number
        )
        statement = select(
            *CONFESSION_COLUMNS, confessions.c.member_id, confessions.c.channel_message_id
        ).where(confessions.c.community_id == community_id, which)
        async with self._db.read() as conn:
            row = (await conn.execute(statement)).mappings().one_or_none()
        if row is None:
            # Not on the replica may mean not there yet (an admin's "/ban #N"
            # right after the card arrived): only the primary can say "none".
            async with self._db.read_own() as conn:
                row = (await conn.execute(statement)).mappings().one_or_none()
        if row is None:
            return None
        return (
            ConfessionRow.of(row),
            int(row["member_id"] or 0),
            int(row["channel_message_id"] or 0),
        )

    async def record_publication(
        self, community_id: int, confession_id: int, channel_message_id: int
    ) -> tuple[ConfessionRow, int] | None:
        """Approved → published with the post's id; (row, author's Telegram id) once published.

        A repeated report of the same post finds it published and answers the
        same, so the author's notice (idempotent in the notifier) is queued again
        harmlessly. None when the confession is not approved or published.
        """
        statement = (
            update(confessions)
            .where(
                confessions.c.id == confession_id,
                confessions.c.community_id == community_id,
                or_(
                    confessions.c.status == "approved",
                    and_(
                        confessions.c.status == "published",
                        confessions.c.channel_message_id == channel_message_id,
                    ),
                ),
            )
            .values(
                status="published", channel_message_id=channel_message_id, updated_at=func.now()
            )
            .returning(*CONFESSION_COLUMNS, *_author_sealed())
        )
        async with self._db.write_one() as conn:
            row = (await conn.execute(statement)).mappings().one_or_none()
        if row is None:
            return None
        return ConfessionRow.of(row), self.seal.author_chat(community_id, row)

    async def is_deleted(self, community_id: int, confession_id: int) -> bool:
        """True when the confession was withdrawn or erased (read on the primary)."""
        statement = select(confessions.c.status).where(
            confessions.c.id == confession_id, confessions.c.community_id == community_id
        )
        async with self._db.read_own() as conn:
            return (await conn.execute(statement)).scalar_one_or_none() == "deleted"
