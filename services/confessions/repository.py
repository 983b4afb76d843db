"""All SQL of the confessions service. Core statements, rows out, no ORM objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from services.confessions.models import communities, confessions, members
from veil.core.db import Database
from veil.core.errors import CommunityNotFoundError


@dataclass(frozen=True)
class CommunityRow:
    """A community as stored."""

    id: int
    bot_id: int
    bot_token: str
    bot_username: str
    channel_chat_id: int
    admin_chat_id: int
    title: str
    created_at: datetime


@dataclass(frozen=True)
class ConfessionRow:
    """A confession as its author may see it (no member identity)."""

    id: int
    number: int
    community_id: int
    text: str
    status: str
    created_at: datetime


_COMMUNITY_COLUMNS = (
    communities.c.id,
    communities.c.bot_id,
    communities.c.bot_token,
    communities.c.bot_username,
    communities.c.channel_chat_id,
    communities.c.admin_chat_id,
    communities.c.title,
    communities.c.created_at,
)
_CONFESSION_COLUMNS = (
    confessions.c.id,
    confessions.c.number,
    confessions.c.community_id,
    confessions.c.text,
    confessions.c.status,
    confessions.c.created_at,
)


def _community(row: RowMapping) -> CommunityRow:
    return CommunityRow(**row)


def _confession(row: RowMapping) -> ConfessionRow:
    return ConfessionRow(**{name: row[name] for name in ConfessionRow.__dataclass_fields__})


class ConfessionsRepository:
    """Reads and writes of the ``confessions`` schema."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def upsert_community(
        self,
        *,
        bot_id: int,
        bot_token: str,
        bot_username: str,
        channel_chat_id: int,
        admin_chat_id: int,
        title: str,
    ) -> CommunityRow:
        """Insert the community, or update the one with the same bot."""
        values = {
            "bot_token": bot_token,
            "bot_username": bot_username,
            "channel_chat_id": channel_chat_id,
            "admin_chat_id": admin_chat_id,
            "title": title,
        }
        statement = (
            insert(communities)
            .values(bot_id=bot_id, **values)
            .on_conflict_do_update(index_elements=[communities.c.bot_id], set_=values)
            .returning(*_COMMUNITY_COLUMNS)
        )
        async with self._db.write() as conn:
            return _community((await conn.execute(statement)).mappings().one())

    async def list_communities(self) -> list[CommunityRow]:
        """Every community, oldest first. Read from the primary: the set is tiny
        and a gateway must see a community as soon as it was added."""
        statement = select(*_COMMUNITY_COLUMNS).order_by(communities.c.id)
        async with self._db.read_own() as conn:
            return [_community(row) for row in (await conn.execute(statement)).mappings()]

    async def register_member(self, community_id: int, telegram_user_id: int) -> tuple[int, bool]:
        """Find or create the member; returns (member id, created)."""
        statement = (
            insert(members)
            .values(community_id=community_id, telegram_user_id=telegram_user_id)
            .on_conflict_do_update(
                constraint="members_community_user_key",
                set_={"telegram_user_id": telegram_user_id},
            )
            # xmax is 0 only on a freshly inserted tuple: tells insert from update
            # in the same round trip.
            .returning(members.c.id, (literal_column("xmax") == 0).label("created"))
        )
        try:
            async with self._db.write() as conn:
                row = (await conn.execute(statement)).one()
        except IntegrityError as error:
            # The only constraint an upsert can break here is the community FK.
            raise CommunityNotFoundError(community_id) from error
        return int(row.id), bool(row.created)

    async def submit_confession(
        self, community_id: int, telegram_user_id: int, text: str, idempotency_key: str
    ) -> tuple[ConfessionRow, bool]:
        """Store a pending confession; a repeated idempotency key returns the first one."""
        # The community row lock serialises submissions of one community: "#N"
        # stays gap-free, and a concurrent retry with the same key waits here and
        # then finds the first attempt's row (each statement of a READ COMMITTED
        # transaction sees what committed before it started).
        lock = (
            select(communities.c.last_number)
            .where(communities.c.id == community_id)
            .with_for_update()
        )
        existing = (
            select(*_CONFESSION_COLUMNS)
            .where(confessions.c.community_id == community_id)
            .where(confessions.c.idempotency_key == idempotency_key)
        )
        async with self._db.write() as conn:
            last_number = (await conn.execute(lock)).scalar_one_or_none()
            if last_number is None:
                raise CommunityNotFoundError(community_id)
            found = (await conn.execute(existing)).mappings().one_or_none()
            if found is not None:
                return _confession(found), False
            next_number = last_number + 1
            await conn.execute(
                update(communities)
                .where(communities.c.id == community_id)
                .values(last_number=next_number)
            )
            member = (
                insert(members)
                .values(community_id=community_id, telegram_user_id=telegram_user_id)
                .on_conflict_do_update(
                    constraint="members_community_user_key",
                    set_={"telegram_user_id": telegram_user_id},
                )
                .returning(members.c.id)
            )
            member_id = (await conn.execute(member)).scalar_one()
            created = (
                insert(confessions)
                .values(
                    community_id=community_id,
                    number=next_number,
                    member_id=member_id,
                    text=text,
                    idempotency_key=idempotency_key,
                )
                .returning(*_CONFESSION_COLUMNS)
            )
            return _confession((await conn.execute(created)).mappings().one()), True

    async def list_member_confessions(
        self, community_id: int, telegram_user_id: int, limit: int, offset: int
    ) -> tuple[list[ConfessionRow], int]:
        """A page of the member's confessions, newest first, and their total.

        One statement: the member lookup is a join and the total a window count.
        Read on the primary, because the member has usually just submitted one.
        """
        statement = (
            select(*_CONFESSION_COLUMNS, func.count().over().label("total"))
            .join(members, members.c.id == confessions.c.member_id)
            .where(members.c.community_id == community_id)
            .where(members.c.telegram_user_id == telegram_user_id)
            .where(confessions.c.status != "deleted")
            .order_by(confessions.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        async with self._db.read_own() as conn:
            rows = (await conn.execute(statement)).mappings().all()
        total = int(rows[0]["total"]) if rows else 0
        return [_confession(row) for row in rows], total

    async def get_confession(
        self, community_id: int, number: int
    ) -> tuple[ConfessionRow, int] | None:
        """A confession by its public number, with its author's internal member id."""
        statement = select(*_CONFESSION_COLUMNS, confessions.c.member_id).where(
            confessions.c.community_id == community_id, confessions.c.number == number
        )
        async with self._db.read() as conn:
            row = (await conn.execute(statement)).mappings().one_or_none()
        if row is None:
            return None
        return _confession(row), int(row["member_id"])
