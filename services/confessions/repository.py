"""All SQL of the confessions service. Core statements, rows out, no ORM objects."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    RowMapping,
    Text,
    delete,
    func,
    literal,
    literal_column,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.confessions.models import communities, confessions, member_events, members
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


@dataclass(frozen=True)
class MemberRow:
    """A member as RegisterMember sees it (for the gateway; no Telegram id)."""

    id: int
    created: bool
    notifications_enabled: bool
    unreachable: bool


@dataclass(frozen=True)
class Recipient:
    """Where a notice to a member goes, and whether it may."""

    telegram_user_id: int
    notifications_enabled: bool
    unreachable: bool


@dataclass(frozen=True)
class ProfileRow:
    """A member's own counters."""

    confessions_sent: int
    confessions_approved: int
    comments_written: int
    reactions_received: int
    notifications_enabled: bool
    created_at: datetime


@dataclass(frozen=True)
class ErasedPost:
    """A published confession whose channel post the erasure must change."""

    confession_id: int
    number: int
    channel_message_id: int


@dataclass(frozen=True)
class Erasure:
    """What erasing one member touches, known before it is committed."""

    member_id: int
    channel_chat_id: int
    # 'replace' (edit the post to "[deleted]") or 'delete'.
    erased_posts: str
    posts: list[ErasedPost]


ERASED_TEXT = "[deleted]"

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

    async def register_member(self, community_id: int, telegram_user_id: int) -> MemberRow:
        """Find or create the member, with their notification setting and reachability."""
        statement = (
            insert(members)
            .values(community_id=community_id, telegram_user_id=telegram_user_id)
            .on_conflict_do_update(
                constraint="members_community_user_key",
                set_={"telegram_user_id": telegram_user_id},
            )
            # xmax is 0 only on a freshly inserted tuple: tells insert from update
            # in the same round trip.
            .returning(
                members.c.id,
                (literal_column("xmax") == 0).label("created"),
                members.c.notifications_enabled,
                members.c.unreachable_since.is_not(None).label("unreachable"),
            )
        )
        try:
            async with self._db.write() as conn:
                row = (await conn.execute(statement)).one()
        except IntegrityError as error:
            # The only constraint an upsert can break here is the community FK.
            raise CommunityNotFoundError(community_id) from error
        return MemberRow(
            id=int(row.id),
            created=bool(row.created),
            notifications_enabled=bool(row.notifications_enabled),
            unreachable=bool(row.unreachable),
        )

    async def mark_reachable(self, member_id: int) -> None:
        """The member wrote to the bot again: notices reach them again."""
        async with self._db.write() as conn:
            await conn.execute(
                update(members).where(members.c.id == member_id).values(unreachable_since=None)
            )

    async def mark_unreachable(self, community_id: int, telegram_user_id: int) -> bool:
        """The member's chat answered 403; returns whether such a member exists."""
        statement = (
            update(members)
            .where(members.c.community_id == community_id)
            .where(members.c.telegram_user_id == telegram_user_id)
            .values(unreachable_since=func.coalesce(members.c.unreachable_since, func.now()))
            .returning(members.c.id)
        )
        async with self._db.write() as conn:
            return (await conn.execute(statement)).first() is not None

    async def set_notifications(
        self, community_id: int, telegram_user_id: int, enabled: bool
    ) -> bool:
        """Turn the member's optional notices on or off; returns the stored value."""
        statement = (
            insert(members)
            .values(
                community_id=community_id,
                telegram_user_id=telegram_user_id,
                notifications_enabled=enabled,
            )
            .on_conflict_do_update(
                constraint="members_community_user_key", set_={"notifications_enabled": enabled}
            )
            .returning(members.c.notifications_enabled)
        )
        try:
            async with self._db.write() as conn:
                return bool((await conn.execute(statement)).scalar_one())
        except IntegrityError as error:
            raise CommunityNotFoundError(community_id) from error

    async def recipients(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], Recipient]:
        """Delivery details of members by (community id, member id), in one statement.

        Read on the primary: a member who just turned notifications off must not
        get the next one because the replica had not replayed it yet.
        """
        if not keys:
            return {}
        statement = select(
            members.c.community_id,
            members.c.id,
            members.c.telegram_user_id,
            members.c.notifications_enabled,
            members.c.unreachable_since.is_not(None).label("unreachable"),
        ).where(tuple_(members.c.community_id, members.c.id).in_(list(set(keys))))
        async with self._db.read_own() as conn:
            rows = (await conn.execute(statement)).all()
        return {
            (int(r.community_id), int(r.id)): Recipient(
                telegram_user_id=int(r.telegram_user_id),
                notifications_enabled=bool(r.notifications_enabled),
                unreachable=bool(r.unreachable),
            )
            for r in rows
        }

    async def record_activity(
        self,
        community_id: int,
        member_id: int,
        *,
        comments_written: int,
        reactions_received: int,
        event_key: str,
    ) -> bool:
        """Add to a member's counters once per event; returns whether it counted.

        One statement: the event row is claimed in a CTE and the counters move
        only when the claim inserted it, so a retried call changes nothing.
        """
        digest = hashlib.sha256(event_key.encode()).hexdigest()[:32]
        member = select(members.c.id).where(
            members.c.community_id == community_id, members.c.id == member_id
        )
        claimed = (
            insert(member_events)
            .from_select(["member_id", "event_key"], member.add_columns(literal(digest, Text)))
            .on_conflict_do_nothing()
            .returning(member_events.c.member_id)
            .cte("claimed")
        )
        statement = (
            update(members)
            .where(members.c.id.in_(select(claimed.c.member_id)))
            .values(
                comments_written=func.greatest(members.c.comments_written + comments_written, 0),
                reactions_received=func.greatest(
                    members.c.reactions_received + reactions_received, 0
                ),
            )
            .returning(members.c.id)
        )
        async with self._db.write() as conn:
            return (await conn.execute(statement)).first() is not None

    async def profile(self, community_id: int, telegram_user_id: int) -> ProfileRow | None:
        """The member's counters: one statement on the primary (their own, fresh)."""
        statement = select(
            members.c.confessions_sent,
            members.c.confessions_approved,
            members.c.comments_written,
            members.c.reactions_received,
            members.c.notifications_enabled,
            members.c.created_at,
        ).where(
            members.c.community_id == community_id, members.c.telegram_user_id == telegram_user_id
        )
        async with self._db.read_own() as conn:
            row = (await conn.execute(statement)).mappings().one_or_none()
        return ProfileRow(**row) if row is not None else None

    async def erase_member(
        self,
        community_id: int,
        telegram_user_id: int,
        before_commit: Callable[[Erasure], Awaitable[None]],
    ) -> tuple[Erasure, int] | None:
        """Erase the member: their row goes, their confessions lose text and author.

        ``before_commit`` runs inside the transaction, with the member and their
        published confessions locked: it queues the channel edits, so that they
        are queued exactly when the erasure commits (a failure rolls both back
        and the retry finds everything as it was). Returns what was erased and
        the number of confessions, or None when there is no such member (erased
        already).
        """
        async with self._db.write() as conn:
            member_id = (
                await conn.execute(
                    select(members.c.id)
                    .where(members.c.community_id == community_id)
                    .where(members.c.telegram_user_id == telegram_user_id)
                    .with_for_update()
                )
            ).scalar_one_or_none()
            if member_id is None:
                return None
            community = (
                await conn.execute(
                    select(communities.c.channel_chat_id, communities.c.erased_posts).where(
                        communities.c.id == community_id
                    )
                )
            ).one()
            posts = (
                await conn.execute(
                    select(confessions.c.id, confessions.c.number, confessions.c.channel_message_id)
                    .where(confessions.c.member_id == member_id)
                    .where(confessions.c.status == "published")
                    .where(confessions.c.channel_message_id.is_not(None))
                    .order_by(confessions.c.id)
                    .with_for_update()
                )
            ).all()
            erasure = Erasure(
                member_id=int(member_id),
                channel_chat_id=int(community.channel_chat_id),
                erased_posts=str(community.erased_posts),
                posts=[
                    ErasedPost(int(p.id), int(p.number), int(p.channel_message_id)) for p in posts
                ],
            )
            await before_commit(erasure)
            erased = (
                await conn.execute(
                    update(confessions)
                    .where(confessions.c.member_id == member_id)
                    .values(
                        text=ERASED_TEXT, status="deleted", member_id=None, updated_at=func.now()
                    )
                    .returning(confessions.c.id)
                )
            ).all()
            # member_events go with the row (ON DELETE CASCADE).
            await conn.execute(delete(members).where(members.c.id == member_id))
            return erasure, len(erased)

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
                .values(
                    community_id=community_id,
                    telegram_user_id=telegram_user_id,
                    confessions_sent=1,
                )
                .on_conflict_do_update(
                    constraint="members_community_user_key",
                    set_={"confessions_sent": members.c.confessions_sent + 1},
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
    ) -> tuple[ConfessionRow, int, int] | None:
        """A confession by its public number, with its author's internal member id
        (0 once erased) and its channel post's message id (0 until published)."""
        statement = select(
            *_CONFESSION_COLUMNS, confessions.c.member_id, confessions.c.channel_message_id
        ).where(confessions.c.community_id == community_id, confessions.c.number == number)
        async with self._db.read() as conn:
            row = (await conn.execute(statement)).mappings().one_or_none()
        if row is None:
            return None
        return _confession(row), int(row["member_id"] or 0), int(row["channel_message_id"] or 0)


async def count_approved(conn: AsyncConnection, confession_id: int) -> None:
    """Add one to the author's "approved" counter, inside the approving transaction.

    For the moderation transition: run it in the same transaction as the
    conditional UPDATE that won the approval, so it counts exactly once.
    """
    author = select(confessions.c.member_id).where(confessions.c.id == confession_id)
    await conn.execute(
        update(members)
        .where(members.c.id == author.scalar_subquery())
        .values(confessions_approved=members.c.confessions_approved + 1)
    )
