"""What the social service's statements read and return: comment rows, pages, reactions.

Below the repositories (repository.py and the modules per concern beside it),
so that the pure modules above them share one definition of a comment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from services.social.models import comments

VISIBLE = "visible"
HIDDEN = "hidden"
DELETED = "deleted"
# Written while shadow-banned: shown to its writer only, counted nowhere.
SHADOW = "shadow"


class Sort(Enum):
    """Orders of a thread page."""

    OLDEST = "oldest"
    NEWEST = "newest"
    TOP = "top"


@dataclass(frozen=True)
class CommentRow:
    """A comment as one viewer sees it."""

    id: int
    confession_id: int
    parent_id: int | None
    member_id: int
    pseudonym: str
    text: str
    likes: int
    dislikes: int
    created_at: datetime
    status: str
    by_author: bool
    my_reaction: int = 0
    parent_pseudonym: str | None = None
    parent_text: str | None = None


@dataclass(frozen=True)
class ThreadPage:
    """A page of a thread and the number of visible comments in it."""

    comments: list[CommentRow]
    total: int


@dataclass(frozen=True)
class ReactionResult:
    """Counts after a reaction, the viewer's reaction (+1, -1, 0) and the comment's writer."""

    likes: int
    dislikes: int
    my_reaction: int
    writer_member_id: int
    # Change of the writer's "reactions received": +1, -1 or 0.
    delta: int
    # Names this change among the comment's reaction changes (for idempotent counting).
    version: str


COMMENT_COLUMNS = (
    comments.c.id,
    comments.c.confession_id,
    comments.c.parent_id,
    comments.c.member_id,
    comments.c.pseudonym,
    comments.c.text,
    comments.c.likes,
    comments.c.dislikes,
    comments.c.created_at,
    comments.c.status,
    comments.c.by_author,
)


def comment_row(row: Any) -> CommentRow:
    """A row of ``COMMENT_COLUMNS`` (and optional viewer columns) as a CommentRow."""
    values: dict[str, Any] = {
        name: row[name] for name in CommentRow.__dataclass_fields__ if name in row
    }
    return CommentRow(**values)


# Subject of a report or reaction made before subjects existed (migration 0004).
LEGACY_SUBJECT = "m:"


def subjects_of(subject: str, member_id: int) -> list[str]:
    """The member's subject, and the one their markers from before 0004 carry."""
    return [subject, f"{LEGACY_SUBJECT}{member_id}"]
