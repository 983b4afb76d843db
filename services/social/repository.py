"""The comments' SQL: thread pages, reactions, statuses and counts (hot statements on asyncpg)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Integer,
    SmallInteger,
    Text,
    and_,
    bindparam,
    case,
    delete,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.social import pacing, thread_states
from services.social.models import comments, reactions
from services.social.pacing import Slot
from services.social.rows import (
    COMMENT_COLUMNS,
    SHADOW,
    VISIBLE,
    CommentRow,
    ReactionResult,
    Sort,
    ThreadPage,
    comment_row,
    subjects_of,
)
from veil.contracts.texts import DELETED_TEXT
from veil.core.db import Database
from veil.core.statements import Statement


def _order(sort: Sort) -> list[ColumnElement[Any]]:
    if sort is Sort.NEWEST:
        return [comments.c.id.desc()]
    if sort is Sort.TOP:
        return [(comments.c.likes - comments.c.dislikes).desc(), comments.c.id]
    return [comments.c.id]


def _thread_page(sort: Sort) -> Statement:
    """A thread page in ``sort`` order: one statement whatever the page holds (the
    viewer's reaction and the parent quoted by a reply are joins, the thread size
    a window count)."""
    parent = comments.alias("parent")
    mine = reactions.alias("mine")
    viewer = bindparam("viewer", type_=BigInteger)
    statement = (
        select(
            *COMMENT_COLUMNS,
            func.coalesce(mine.c.value, 0).label("my_reaction"),
            parent.c.pseudonym.label("parent_pseudonym"),
            case((parent.c.status == VISIBLE, parent.c.text), else_=literal(DELETED_TEXT)).label(
                "parent_text"
            ),
            func.count().over().label("total"),
        )
        .select_from(
            comments.outerjoin(
                mine,
                and_(
                    mine.c.comment_id == comments.c.id,
                    mine.c.member_id == viewer,
                    # Markers of erased members (member 0) are nobody's.
                    mine.c.member_id != 0,
                ),
            ).outerjoin(parent, parent.c.id == comments.c.parent_id)
        )
        .where(comments.c.community_id == bindparam("community_id", type_=BigInteger))
        .where(comments.c.confession_id == bindparam("confession_id", type_=BigInteger))
        .where(
            or_(
                comments.c.status == VISIBLE,
                # A shadow-banned writer sees their own comments, nobody else does.
                and_(
                    comments.c.status == SHADOW,
                    comments.c.member_id == viewer,
                    comments.c.member_id != 0,
                ),
            )
        )
        .order_by(*_order(sort))
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )
    return Statement(statement, f"thread_page_{sort.value}")


_THREAD_PAGES = {sort: _thread_page(sort) for sort in Sort}

_VISIBLE_COUNT = Statement(
    select(func.count()).where(
        comments.c.community_id == bindparam("community_id", type_=BigInteger),
        comments.c.confession_id == bindparam("confession_id", type_=BigInteger),
        comments.c.status == VISIBLE,
    ),
    "visible_count",
)

# React's three statements inside its transaction (see SocialRepository.react).
_REACT_LOCK = Statement(
    select(comments.c.member_id, thread_states.state_of(bindparam("confession_id")))
    .where(
        comments.c.community_id == bindparam("community_id", type_=BigInteger),
        comments.c.confession_id == bindparam("confession_id", type_=BigInteger),
        comments.c.id == bindparam("comment_id", type_=BigInteger),
        comments.c.status == VISIBLE,
    )
    .with_for_update(of=comments),
    "react_lock",
)
_REACT_REMOVE = Statement(
    delete(reactions)
    .where(
        reactions.c.comment_id == bindparam("comment_id", type_=BigInteger),
        reactions.c.subject == func.any(bindparam("subjects", type_=ARRAY(Text))),
    )
    .returning(reactions.c.value),
    "react_remove",
)


def _react_count(with_insert: bool) -> Statement:
    """The counters moved by the change (and the new reaction inserted, when there is one)."""
    like = bindparam("like_delta", type_=Integer)
    dislike = bindparam("dislike_delta", type_=Integer)
    changed = bindparam("changed", type_=Integer)
    comment_id = bindparam("comment_id", type_=BigInteger)
    statement = (
        update(comments)
        .where(comments.c.id == comment_id)
        .values(
            likes=comments.c.likes + like,
            dislikes=comments.c.dislikes + dislike,
            reaction_changes=comments.c.reaction_changes + changed,
        )
        .returning(comments.c.likes, comments.c.dislikes, comments.c.reaction_changes)
    )
    if with_insert:
        # The new reaction rides in the counters' statement.
        statement = statement.add_cte(
            insert(reactions)
            .values(
                comment_id=comment_id,
                subject=bindparam("subject", type_=Text),
                member_id=bindparam("member_id", type_=BigInteger),
                value=bindparam("value", type_=SmallInteger),
            )
            .cte("reacted")
        )
    return Statement(statement, "react_count")


_REACT_COUNT = _react_count(with_insert=False)
_REACT_COUNT_INSERT = _react_count(with_insert=True)


class SocialRepository:
    """Reads and writes of the ``social`` schema."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def db(self) -> Database:
        """The schema's database (for the modules that own other statements of it)."""
        return self._db

    @staticmethod
    async def _visible_count(conn: AsyncConnection, community_id: int, confession_id: int) -> int:
        return await visible_count(conn, community_id, confession_id)

    async def thread_page(
        self,
        *,
        community_id: int,
        confession_id: int,
        viewer_member_id: int,
        sort: Sort,
        limit: int,
        offset: int,
        consistent: bool,
    ) -> ThreadPage:
        """One page of visible comments with counts, the viewer's reactions and reply quotes.

        One statement whatever the page holds (``_thread_page``).
        ``consistent`` reads from the primary (the viewer just wrote).
        """
        rows = await self._db.fetch(
            _THREAD_PAGES[sort],
            stale_ok=not consistent,
            community_id=community_id,
            confession_id=confession_id,
            viewer=viewer_member_id,
            limit=limit,
            offset=offset,
        )
        if not rows and offset > 0:
            # The window count is only known with a row; an empty page past the
            # end still reports the size, at the cost of a second statement.
            total = await self._db.fetchval(
                _VISIBLE_COUNT,
                stale_ok=not consistent,
                community_id=community_id,
                confession_id=confession_id,
            )
            return ThreadPage([], int(total))
        return ThreadPage([comment_row(r) for r in rows], int(rows[0]["total"]) if rows else 0)

    async def get_comment(self, community_id: int, comment_id: int) -> CommentRow | None:
        """One comment, from the primary (admin and writer actions act on the latest)."""
        statement = select(*COMMENT_COLUMNS).where(
            comments.c.community_id == community_id, comments.c.id == comment_id
        )
        async with self._db.read_own() as conn:
            row = (await conn.execute(statement)).mappings().one_or_none()
        return comment_row(row) if row is not None else None

    async def react(
        self,
        community_id: int,
        confession_id: int,
        comment_id: int,
        member_id: int,
        value: int,
        subject: str,
        *,
        known_open: bool = False,
    ) -> ReactionResult:
        """Set the member's reaction to ``value`` (+1, -1, or 0 for none) on a
        visible comment of thread ``confession_id``.

        One reaction per protected ``subject``: the reaction a member left
        before erasing themselves is theirs again when they join again, so
        they cannot add a second one.

        Setting, not toggling, so that a redelivered press changes nothing; the
        gateway turns "press 👍 again" into 0. The comment row is locked first,
        so concurrent reactions to one comment apply one after another and the
        counters stay equal to the rows. The thread's state is read with the
        lock (thread_states.py): a closed thread is refused, an unknown one
        unless ``known_open``.
        """
        async with self._db.transaction() as conn:
            found = await _REACT_LOCK.fetchrow(
                conn, community_id=community_id, confession_id=confession_id, comment_id=comment_id
            )
            if found is None:
                raise LookupError("comment not found")
            thread_states.check(found[1], known_open=known_open)
            writer = found[0]
            # After the lock: the reaction read here is the latest one.
            old = int(
                await _REACT_REMOVE.fetchval(
                    conn, comment_id=comment_id, subjects=subjects_of(subject, member_id)
                )
                or 0
            )
            counting = _REACT_COUNT_INSERT if value else _REACT_COUNT
            counts = await counting.fetchrow(
                conn,
                comment_id=comment_id,
                like_delta=int(value == 1) - int(old == 1),
                dislike_delta=int(value == -1) - int(old == -1),
                changed=int(old != value),
                subject=subject,
                member_id=member_id,
                value=value,
            )
            assert counts is not None
            return ReactionResult(
                likes=int(counts["likes"]),
                dislikes=int(counts["dislikes"]),
                my_reaction=value,
                writer_member_id=int(writer),
                delta=int(value != 0) - int(old != 0),
                version=str(counts["reaction_changes"]),
            )

    async def set_status(
        self,
        community_id: int,
        confession_id: int,
        comment_id: int,
        *,
        to: str,
        only_from: tuple[str, ...],
        member_id: int | None = None,
    ) -> CommentRow | None:
        """Move a comment of thread ``confession_id`` to ``to`` if it is in one of
        ``only_from`` (and, if given, written by ``member_id``); returns it, or
        None when nothing changed."""
        statement = (
            update(comments)
            .where(comments.c.community_id == community_id)
            .where(comments.c.confession_id == confession_id)
            .where(comments.c.id == comment_id)
            .where(comments.c.status.in_(only_from))
            .values(status=to)
            .returning(*COMMENT_COLUMNS)
        )
        if member_id is not None:
            statement = statement.where(comments.c.member_id == member_id)
        async with self._db.write_one() as conn:
            row = (await conn.execute(statement)).mappings().one_or_none()
        return comment_row(row) if row is not None else None

    async def visible_count(self, community_id: int, confession_id: int) -> int:
        """Visible comments of a thread (for the channel post's button)."""
        async with self._db.read_own() as conn:
            return await self._visible_count(conn, community_id, confession_id)

    async def pace(self, key: str, interval_seconds: float) -> Slot:
        """Reserve the next slot of a paced send (see pacing.py): one statement."""
        return await pacing.pace(self._db, key, interval_seconds)

    async def pace_many(self, intervals: Mapping[str, float]) -> dict[str, Slot]:
        """Reserve the next slot of each key's paced send (key → seconds): one statement."""
        return await pacing.pace_many(self._db, intervals)

    async def members_named(self, community_id: int, pseudonym: str) -> list[int]:
        """Distinct members who wrote under ``pseudonym`` in the community (at most 2).

        The author mark is not a pseudonym and never matches.
        """
        statement = (
            select(comments.c.member_id)
            .where(
                comments.c.community_id == community_id,
                func.lower(comments.c.pseudonym) == pseudonym.strip().lower(),
                comments.c.by_author.is_(False),
            )
            .distinct()
            .limit(2)
        )
        async with self._db.read_own() as conn:
            return [int(r) for r in (await conn.execute(statement)).scalars()]


async def visible_count(conn: AsyncConnection, community_id: int, confession_id: int) -> int:
    """Visible comments of a thread, inside ``conn``'s transaction."""
    statement = select(func.count()).where(
        comments.c.community_id == community_id,
        comments.c.confession_id == confession_id,
        comments.c.status == VISIBLE,
    )
    return int((await conn.execute(statement)).scalar_one())
