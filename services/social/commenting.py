"""AddComment's SQL: one statement for a new comment, and the thread's state.

In one statement: the thread's row in ``thread_states`` is noted (its author,
from the gateway's ThreadContext), the comment is inserted unless its key was
used (a redelivered comment) or the comment it replies to is gone, and the
thread's visible count and the replied-to comment's writer (to tell them) are
read. A statement runs atomically on its own: no
BEGIN/COMMIT round trips. Only a redelivery or a refused reply needs a second
statement. Compiled once, at import, and run on asyncpg (veil.core.statements).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import text

from services.social.rows import CommentRow
from veil.core.db import Database
from veil.core.statements import Statement

_COLUMNS = (
    "id, confession_id, parent_id, member_id, pseudonym, text, likes, dislikes, "
    "created_at, status, by_author"
)
_VISIBLE = (
    "SELECT count(*) FROM comments "
    "WHERE community_id = :community_id AND confession_id = :confession_id "
    "AND status = 'visible'"
)
# The writer of the comment replied to (None for a top-level comment).
_PARENT_WRITER = (
    "SELECT p.member_id FROM comments p "
    "WHERE p.id = {c}.parent_id AND p.community_id = :community_id"
)

_ADD = Statement(
    text(
        f"""
WITH state AS (
    INSERT INTO thread_states (confession_id, community_id, author_member_id)
    VALUES (:confession_id, :community_id, NULLIF(CAST(:author AS bigint), 0))
    ON CONFLICT (confession_id) DO UPDATE
    SET author_member_id = EXCLUDED.author_member_id
    WHERE thread_states.author_member_id IS NULL AND EXCLUDED.author_member_id IS NOT NULL
      AND thread_states.closed_at IS NULL
), added AS (
    INSERT INTO comments
        (community_id, confession_id, parent_id, member_id, pseudonym, by_author, text,
         idempotency_key, flagged, status)
    SELECT CAST(:community_id AS bigint), CAST(:confession_id AS bigint),
           CAST(:parent_id AS bigint), CAST(:member_id AS bigint), CAST(:pseudonym AS text),
           CAST(:by_author AS boolean), CAST(:text AS text), CAST(:key AS text),
           CAST(:flagged AS text), CAST(:status AS text)
    WHERE CAST(:parent_id AS bigint) IS NULL OR EXISTS (
        SELECT 1 FROM comments p
        WHERE p.id = :parent_id AND p.confession_id = :confession_id
          AND p.community_id = :community_id AND p.status = 'visible'
    )
    ON CONFLICT ON CONSTRAINT comments_idempotency_key DO NOTHING
    RETURNING {_COLUMNS}
)
-- The statement's snapshot does not show its own insert: the count adds it.
SELECT added.*, ({_VISIBLE}) + CASE WHEN added.status = 'visible' THEN 1 ELSE 0 END AS visible,
       ({_PARENT_WRITER.format(c="added")}) AS parent_writer
FROM added
"""
    ),
    "add_comment",
)

_EXISTING = Statement(
    text(
        f"""
SELECT {_COLUMNS}, ({_VISIBLE}) AS visible,
       ({_PARENT_WRITER.format(c="comments")}) AS parent_writer
FROM comments WHERE community_id = :community_id AND idempotency_key = :key
"""
    ),
    "existing_comment",
)

_FIELDS = tuple(CommentRow.__dataclass_fields__)


class Added(NamedTuple):
    """What AddComment stored (or found, for a repeated key)."""

    row: CommentRow
    # False for a repeated key: the first comment.
    created: bool
    # The thread's visible comments, this one included.
    visible: int
    # Who wrote the comment this one replies to (None: not a reply).
    parent_writer: int | None


def _added(row: Any, created: bool) -> Added:
    parent_writer = row["parent_writer"]
    return Added(
        CommentRow(**{name: row[name] for name in _FIELDS if name in row}),
        created,
        int(row["visible"]),
        None if parent_writer is None else int(parent_writer),
    )


async def add_comment(
    db: Database,
    *,
    community_id: int,
    confession_id: int,
    author_member_id: int,
    parent_id: int | None,
    member_id: int,
    pseudonym: str,
    by_author: bool,
    text_: str,
    idempotency_key: str,
    flagged: str | None = None,
    shadow: bool = False,
) -> Added:
    """Insert a comment; a repeated key returns the first one.

    A reply's parent must be a visible comment of the same thread.
    """
    params = {
        "community_id": community_id,
        "confession_id": confession_id,
        "author": author_member_id,
        "parent_id": parent_id,
        "member_id": member_id,
        "pseudonym": pseudonym,
        "by_author": by_author,
        "text": text_,
        "key": idempotency_key,
        "flagged": flagged,
        # A shadow-banned writer's comment is shown to them only.
        "status": "shadow" if shadow else "visible",
    }
    # Each statement commits by itself (no BEGIN/COMMIT round trips).
    async with db.connection() as conn:
        row = await _ADD.fetchrow(conn, **params)
        if row is not None:
            return _added(row, True)
        existing = await _EXISTING.fetchrow(
            conn, community_id=community_id, confession_id=confession_id, key=idempotency_key
        )
    if existing is None:
        raise LookupError("the comment replied to is gone")
    return _added(existing, False)
