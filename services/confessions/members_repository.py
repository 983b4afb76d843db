"""SQL of MembersService: settings, reachability, counters, erasure.

Registration (:mod:`services.confessions.registration`), bans
(:mod:`services.confessions.protection`) and the recipients of notices
(:mod:`services.confessions.notify_members`) have their own modules.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

from sqlalchemy import (
    BigInteger,
    Integer,
    LargeBinary,
    Text,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.confessions.models import (
    bans,
    communities,
    confessions,
    conversations,
    member_events,
    members,
    relay,
)
from services.confessions.rows import (
    ErasedCard,
    ErasedPost,
    Erasure,
    ProfileRow,
)
from services.confessions.sealed import MemberSeal
from veil.contracts.texts import DELETED_TEXT
from veil.core.db import Database
from veil.core.errors import CommunityNotFoundError, NotFoundError
from veil.core.outbox import card_key
from veil.core.statements import Statement

# Hot statements (every comment, reaction and /me): compiled once, run on asyncpg.
_MEMBER_BY_ID = select(members.c.id).where(
    members.c.community_id == bindparam("community_id", type_=BigInteger),
    members.c.id == bindparam("member_id", type_=BigInteger),
)
_CLAIMED = (
    insert(member_events)
    .from_select(
        ["member_id", "event_key"],
        _MEMBER_BY_ID.add_columns(bindparam("digest", type_=Text)),
    )
    .on_conflict_do_nothing()
    .returning(member_events.c.member_id)
    .cte("claimed")
)
# The counters move only when the event's claim inserted it: a retry counts nothing.
_RECORD_ACTIVITY = Statement(
    update(members)
    .where(members.c.id.in_(select(_CLAIMED.c.member_id)))
    .values(
        comments_written=func.greatest(
            members.c.comments_written + bindparam("comments", type_=Integer), 0
        ),
        reactions_received=func.greatest(
            members.c.reactions_received + bindparam("reactions", type_=Integer), 0
        ),
    )
    .returning(members.c.id),
    "record_activity",
)
_PROFILE = Statement(
    select(
        members.c.confessions_sent,
        members.c.confessions_approved,
        members.c.comments_written,
        members.c.reactions_received,
        members.c.notifications_enabled,
        members.c.created_at,
    ).where(
        members.c.community_id == bindparam("community_id", type_=BigInteger),
        members.c.lookup == bindparam("lookup", type_=LargeBinary),
    ),
    "profile",
)


class MembersRepository:
    """Reads and writes of ``members`` and ``member_events`` (and an erasure's rows)."""

    def __init__(self, db: Database, seal: MemberSeal) -> None:
        self._db = db
        self.seal = seal

    @property
    def db(self) -> Database:
        """The engines, for RegisterMember's statement (registration.py)."""
        return self._db

    async def chat_of(self, community_id: int, member_id: int) -> int | None:
        """A member's private chat id (opened), None when there is no such member."""
        async with self._db.read_own() as conn:
            try:
                return await self.seal.open_member(conn, community_id, member_id)
            except NotFoundError:
                return None

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
            .where(members.c.lookup == self.seal.lookup(community_id, telegram_user_id))
            .values(unreachable_since=func.coalesce(members.c.unreachable_since, func.now()))
            .returning(members.c.id)
        )
        # One statement commits by itself: no BEGIN/COMMIT round trips.
        async with self._db.write_one() as conn:
            return (await conn.execute(statement)).first() is not None

    async def set_notifications(
        self, community_id: int, telegram_user_id: int, enabled: bool
    ) -> bool:
        """Turn the member's optional notices on or off; returns the stored value."""
        statement = (
            insert(members)
            .values(
                community_id=community_id,
                notifications_enabled=enabled,
                **self.seal.new_member(community_id, telegram_user_id),
            )
            .on_conflict_do_update(
                constraint="members_community_lookup_key", set_={"notifications_enabled": enabled}
            )
            .returning(members.c.notifications_enabled)
        )
        try:
            async with self._db.write() as conn:
                return bool((await conn.execute(statement)).scalar_one())
        except IntegrityError as error:
            raise CommunityNotFoundError(community_id) from error

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
        # One statement commits by itself: no BEGIN/COMMIT round trips.
        row = await self._db.fetchrow(
            _RECORD_ACTIVITY,
            community_id=community_id,
            member_id=member_id,
            digest=digest,
            comments=comments_written,
            reactions=reactions_received,
        )
        return row is not None

    async def profile(self, community_id: int, telegram_user_id: int) -> ProfileRow | None:
        """The member's counters: one statement on the primary (their own, fresh)."""
        row = await self._db.fetchrow(
            _PROFILE,
            community_id=community_id,
            lookup=self.seal.lookup(community_id, telegram_user_id),
        )
        return ProfileRow(**dict(row.items())) if row is not None else None

    async def erase_member(
        self,
        community_id: int,
        telegram_user_id: int,
        subject: str,
        before_commit: Callable[[Erasure], Awaitable[None]],
    ) -> tuple[Erasure, int] | None:
        """Erase the member: their row goes, their confessions lose text and author.

        What protects the community stays, under ``subject`` alone: their bans
        (a ban made before bans had subjects gets it here).

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
                    .where(members.c.lookup == self.seal.lookup(community_id, telegram_user_id))
                    .with_for_update()
                )
            ).scalar_one_or_none()
            if member_id is None:
                return None
            erasure = await _erasure(conn, community_id, int(member_id))
            # Their cards still waiting for the relay are never sent. One being
            # sent holds its row's lock until the notifier has it, so this
            # waits, and before_commit's erasure of the queue then finds it.
            await conn.execute(
                delete(relay).where(
                    relay.c.idempotency_key.in_([card_key(c.confession_id) for c in erasure.cards])
                )
            )
            await before_commit(erasure)
            return erasure, await _erase(conn, erasure.member_id, subject)


async def _erasure(conn: AsyncConnection, community_id: int, member_id: int) -> Erasure:
    """What erasing the (locked) member touches: their published posts (locked
    too) and every card of theirs in the admin chat, which is withdrawn."""
    community = (
        await conn.execute(
            select(
                communities.c.channel_chat_id,
                communities.c.admin_chat_id,
                communities.c.erased_posts,
            ).where(communities.c.id == community_id)
        )
    ).one()
    # Approved confessions are locked too, though only published ones have a
    # post to change: a post that lands meanwhile has its RecordPublication wait
    # for this transaction, then find the confession erased and take the post
    # down (moderate.record_publication). Locking published rows alone let that
    # UPDATE commit between this read and the erasure, and the post stayed up.
    posts = [
        p
        for p in (
            await conn.execute(
                select(
                    confessions.c.id,
                    confessions.c.number,
                    confessions.c.channel_message_id,
                    confessions.c.media_kind,
                )
                .where(confessions.c.member_id == member_id)
                .where(confessions.c.status.in_(("approved", "published")))
                .order_by(confessions.c.id)
                .with_for_update()
            )
        ).all()
        if p.channel_message_id is not None
    ]
    cards = (
        await conn.execute(
            select(confessions.c.id, confessions.c.number, confessions.c.media_kind)
            .where(confessions.c.member_id == member_id)
            .where(confessions.c.status != "deleted")
            .order_by(confessions.c.id)
        )
    ).all()
    talks = await conn.execute(
        select(conversations.c.id).where(
            conversations.c.community_id == community_id,
            conversations.c.member_id == member_id,
        )
    )
    return Erasure(
        member_id=member_id,
        channel_chat_id=int(community.channel_chat_id),
        admin_chat_id=int(community.admin_chat_id),
        conversations=sorted(int(c) for c in talks.scalars()),
        cards=[
            ErasedCard(int(c.id), int(c.number), has_media=c.media_kind is not None) for c in cards
        ],
        erased_posts=str(community.erased_posts),
        posts=[
            ErasedPost(
                int(p.id),
                int(p.number),
                int(p.channel_message_id),
                has_media=p.media_kind is not None,
            )
            for p in posts
        ],
    )


async def _erase(conn: AsyncConnection, member_id: int, subject: str) -> int:
    """Erase the member's confessions and row, keep their bans under ``subject``;
    returns how many confessions were erased."""
    erased = (
        await conn.execute(
            update(confessions)
            .where(confessions.c.member_id == member_id)
            .values(
                text=DELETED_TEXT,
                status="deleted",
                member_id=None,
                media_kind=None,
                file_id=None,
                flagged_word=None,
                reject_reason=None,
                updated_at=func.now(),
            )
            .returning(confessions.c.id)
        )
    ).all()
    # Bans stay, under the subject alone (bans made before subjects get it now).
    await conn.execute(
        update(bans).where(bans.c.member_id == member_id).values(subject=subject, member_id=None)
    )
    # member_events go with the row (ON DELETE CASCADE).
    await conn.execute(delete(members).where(members.c.id == member_id))
    return len(erased)
