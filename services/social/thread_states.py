"""What the social service knows of a thread's state (models.thread_states).

A thread gets its row with its first comment (commenting.py) and is closed
when its author erases their data (erasure.py), which withdraws the
confession. A reaction or a report reads the state in the statement that
locks the comment, so an open thread costs no call to the confessions
service; only a thread whose author is unknown (comments from before 0005)
is still checked with it (open_threads.require_open).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select, update

from services.social.models import thread_states

OPEN = "open"
CLOSED = "closed"


class ThreadStateUnknownError(Exception):
    """The thread's state is not known here: the caller asks the confessions service."""


def state_of(confession_id: Any) -> Any:
    """The thread's state as a scalar subquery: 'open', 'closed' or NULL (unknown);
    ``confession_id`` is an id or a bind parameter (a precompiled statement)."""
    return (
        select(
            case(
                (thread_states.c.closed_at.is_not(None), CLOSED),
                (func.coalesce(thread_states.c.author_member_id, 0) == 0, None),
                else_=OPEN,
            )
        )
        .where(thread_states.c.confession_id == confession_id)
        .scalar_subquery()
    )


def check(state: str | None, *, known_open: bool) -> None:
    """Refuse a closed thread (LookupError); an unknown one unless checked already."""
    if state == CLOSED:
        raise LookupError("the thread is closed")
    if state is None and not known_open:
        raise ThreadStateUnknownError


def close_authors_threads(community_id: int, member_id: int) -> Any:
    """The UPDATE closing every thread of ``member_id``'s confessions (their erasure).

    A closed thread stays closed: a later comment's upsert only fills an
    author that is unknown on a thread that is open.
    """
    return (
        update(thread_states)
        .where(
            thread_states.c.community_id == community_id,
            thread_states.c.author_member_id == member_id,
            thread_states.c.closed_at.is_(None),
        )
        # The author's id goes with their erasure (nothing of them stays).
        .values(closed_at=func.now(), author_member_id=None)
    )
