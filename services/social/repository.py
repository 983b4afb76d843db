"""All SQL of the social service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping, func, select
from sqlalchemy.dialects.postgresql import insert

from services.social.models import comments
from veil.core.db import Database


@dataclass(frozen=True)
class CommentRow:
    """A comment as members see it."""

    id: int
    confession_id: int
    parent_id: int | None
    pseudonym: str
    text: str
    likes: int
    dislikes: int
    created_at: datetime


_COLUMNS = (
    comments.c.id,
    comments.c.confession_id,
    comments.c.parent_id,
    comments.c.pseudonym,
    comments.c.text,
    comments.c.likes,
    comments.c.dislikes,
    comments.c.created_at,
)


def _comment(row: RowMapping) -> CommentRow:
    return CommentRow(**{name: row[name] for name in CommentRow.__dataclass_fields__})


class SocialRepository:
    """Reads and writes of the ``social`` schema."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_comment(
        self,
        *,
        community_id: int,
        confession_id: int,
        parent_id: int | None,
        member_id: int,
        pseudonym: str,
        text: str,
        idempotency_key: str,
    ) -> tuple[CommentRow, bool]:
        """Insert a comment; a repeated idempotency key returns the first one."""
        statement = (
            insert(comments)
            .values(
                community_id=community_id,
                confession_id=confession_id,
                parent_id=parent_id,
                member_id=member_id,
                pseudonym=pseudonym,
                text=text,
                idempotency_key=idempotency_key,
            )
            .on_conflict_do_nothing(constraint="comments_idempotency_key")
            .returning(*_COLUMNS)
        )
        async with self._db.write() as conn:
            row = (await conn.execute(statement)).mappings().one_or_none()
            if row is not None:
                return _comment(row), True
            existing = (
                select(*_COLUMNS)
                .where(comments.c.community_id == community_id)
                .where(comments.c.idempotency_key == idempotency_key)
            )
            return _comment((await conn.execute(existing)).mappings().one()), False

    async def list_comments(
        self, community_id: int, confession_id: int, limit: int, offset: int
    ) -> tuple[list[CommentRow], int]:
        """A page of a thread, oldest first, and the thread's size (one statement)."""
        statement = (
            select(*_COLUMNS, func.count().over().label("total"))
            .where(comments.c.community_id == community_id)
            .where(comments.c.confession_id == confession_id)
            .order_by(comments.c.id)
            .limit(limit)
            .offset(offset)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(statement)).mappings().all()
        total = int(rows[0]["total"]) if rows else 0
        return [_comment(row) for row in rows], total
