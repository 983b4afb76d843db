"""SQL of ConfessionsService: a member's list, one confession, its publication.

The hot-path statements of submission and decision have their own modules
(:mod:`services.confessions.submission`, :mod:`services.confessions.decision`);
the Mini App's queue and figures are in :mod:`services.confessions.dashboard_repository`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Integer, LargeBinary, and_, bindparam, func, or_, select, update

from services.confessions.models import confessions, members
from services.confessions.rows import ConfessionRow
from services.confessions.sealed import MemberSeal
from veil.core.db import Database
from veil.core.statements import Statement

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


# /my: a page of the member's confessions, newest first, and their total.
_MINE = Statement(
    select(*CONFESSION_COLUMNS, func.count().over().label("total"))
    .join(members, members.c.id == confessions.c.member_id)
    .where(members.c.community_id == bindparam("community_id", type_=BigInteger))
    .where(members.c.lookup == bindparam("lookup", type_=LargeBinary))
    .where(confessions.c.status != "deleted")
    .order_by(confessions.c.id.desc())
    .limit(bindparam("limit", type_=Integer))
    .offset(bindparam("offset", type_=Integer)),
    "my_confessions",
)


def _one_confession(by_id: bool) -> Statement:
    which = (
        confessions.c.id == bindparam("confession_id", type_=BigInteger)
        if by_id
        else confessions.c.number == bindparam("number", type_=BigInteger)
    )
    return Statement(
        select(
            *CONFESSION_COLUMNS, confessions.c.member_id, confessions.c.channel_message_id
        ).where(confessions.c.community_id == bindparam("community_id", type_=BigInteger), which),
        "get_confession",
    )


# A confession by its internal id, or by its public number (thread pages, /ban #N).
_BY_ID = _one_confession(by_id=True)
_BY_NUMBER = _one_confession(by_id=False)

# The worker's report of a post: approved → published (the same post reported
# again finds it published and answers the same).
_PUBLISHED = Statement(
    update(confessions)
    .where(
        confessions.c.id == bindparam("confession_id", type_=BigInteger),
        confessions.c.community_id == bindparam("community_id", type_=BigInteger),
        or_(
            confessions.c.status == "approved",
            and_(
                confessions.c.status == "published",
                confessions.c.channel_message_id == bindparam("message_id", type_=BigInteger),
            ),
        ),
    )
    .values(
        status="published",
        channel_message_id=bindparam("message_id", type_=BigInteger),
        updated_at=func.now(),
    )
    .returning(*CONFESSION_COLUMNS, *_author_sealed()),
    "record_publication",
)


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
        rows = await self._db.fetch(
            _MINE,
            community_id=community_id,
            lookup=self.seal.lookup(community_id, telegram_user_id),
            limit=limit,
            offset=offset,
        )
        total = int(rows[0]["total"]) if rows else 0
        return [ConfessionRow.of(row) for row in rows], total

    async def get_confession(
        self, community_id: int, number: int, confession_id: int = 0
    ) -> tuple[ConfessionRow, int, int] | None:
        """A confession by its public number (or internal id): (row, author's member id,
        channel message id)."""
        params: dict[str, Any]
        statement, params = (
            (_BY_ID, {"confession_id": confession_id})
            if confession_id
            else (_BY_NUMBER, {"number": number})
        )
        row = await self._db.fetchrow(statement, stale_ok=True, community_id=community_id, **params)
        if row is None:
            # Not on the replica may mean not there yet (an admin's "/ban #N"
            # right after the card arrived): only the primary can say "none".
            row = await self._db.fetchrow(statement, community_id=community_id, **params)
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
        row = await self._db.fetchrow(
            _PUBLISHED,
            community_id=community_id,
            confession_id=confession_id,
            message_id=channel_message_id,
        )
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
