"""Erasing a member's comments (``/deleteme``), and what that changes elsewhere.

Their comments go (or stay as "[deleted]" where replies hang on them); their
reports and reactions on other comments stay as markers under the protected
subject alone. Then the channel posts' comment counters are corrected and the
cards the admin chat got for their hidden comments are withdrawn.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import Select, case, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from services.social import domain
from services.social.models import comments, pacers, reactions, reports
from services.social.repository import visible_count
from services.social.rows import DELETED, HIDDEN, LEGACY_SUBJECT, VISIBLE
from services.social.thread_states import close_authors_threads
from veil.contracts.texts import DELETED_TEXT
from veil.core.confessions_stubs import ConfessionsStubs
from veil.core.db import Database
from veil.core.outbox import Outbox, OutgoingCall, Priority
from veil.v1 import confessions_pb2
from veil.v1 import social_pb2 as pb

# The servicer's paced "💬 Comments (n)" edit: (thread, count, event).
QueueCounter = Callable[[pb.ThreadContext, int, str], Awaitable[None]]


@dataclass(frozen=True)
class SocialErasure:
    """What erasing a member's comments changed beyond them."""

    erased: int
    # Per thread that lost visible comments: its visible count now, and the id
    # of one erased comment (names the counter edit without naming the member).
    threads: dict[int, tuple[int, int]]
    # Erased comments that reports had put on a card in the admin chat.
    carded: list[int]


# The admin chat's cards of a comment: reports hid it; a rule flagged it.
CARDS = ("hidden", "flagged")


async def erase_member(
    db: Database, community_id: int, member_id: int, subject: str
) -> SocialErasure:
    """Remove a member's comments; returns what that changed elsewhere.

    A comment that has replies keeps its place as "[deleted]" with no
    writer and no counts, so the thread keeps its shape; the others are
    deleted with the reactions and reports they got. The member's own
    reports and reactions on other comments stay, under ``subject`` alone
    (the member id goes): the counters they are part of stay right, and a
    member who joins again cannot report or react to the same comment again.
    """
    async with db.write() as conn:
        # Erasing themselves withdraws the member's confessions: their threads
        # close here, so reactions and reports on them are refused at once.
        await conn.execute(close_authors_threads(community_id, member_id))
        # Both are read before anything changes: they describe the comments as
        # the admin chat and the channel posts last saw them.
        shown = await _first_visible_per_thread(conn, community_id, member_id)
        carded_ids = await _carded(conn, community_id, member_id)
        await _keep_marks_under_subject(conn, community_id, member_id, subject)
        erased = await _erase_comments(conn, community_id, member_id)
        # Batching state names the member (by internal id); it goes too.
        await conn.execute(delete(pacers).where(pacers.c.key.like(f"notify:{member_id}:%")))
        threads = {
            confession_id: (await visible_count(conn, community_id, confession_id), first)
            for confession_id, first in shown
        }
        return SocialErasure(erased, threads, carded_ids)


def _theirs(community_id: int, member_id: int) -> Select[tuple[int]]:
    """The ids of the member's comments in the community."""
    return select(comments.c.id).where(
        comments.c.community_id == community_id, comments.c.member_id == member_id
    )


async def _first_visible_per_thread(
    conn: AsyncConnection, community_id: int, member_id: int
) -> list[tuple[int, int]]:
    """Per thread where the member has visible comments: (thread, lowest such id)."""
    rows = (
        await conn.execute(
            select(comments.c.confession_id, func.min(comments.c.id))
            .where(comments.c.community_id == community_id)
            .where(comments.c.member_id == member_id, comments.c.status == VISIBLE)
            .group_by(comments.c.confession_id)
        )
    ).all()
    return [(int(confession_id), int(first)) for confession_id, first in rows]


async def _carded(conn: AsyncConnection, community_id: int, member_id: int) -> list[int]:
    """The member's comments the admin chat got a card with the text of."""
    # Reports hid it (it is hidden, or admins settled its reports), or a rule
    # flagged it.
    settled = exists().where(reports.c.comment_id == comments.c.id, reports.c.outcome.is_not(None))
    return [
        int(c)
        for c in (
            await conn.execute(
                select(comments.c.id)
                .where(comments.c.community_id == community_id)
                .where(comments.c.member_id == member_id)
                .where(or_(comments.c.status == HIDDEN, settled, comments.c.flagged.is_not(None)))
            )
        ).scalars()
    ]


async def _keep_marks_under_subject(
    conn: AsyncConnection, community_id: int, member_id: int, subject: str
) -> None:
    """Move the member's reactions and reports on the community's comments to ``subject``."""
    in_community = select(comments.c.id).where(comments.c.community_id == community_id)
    legacy = f"{LEGACY_SUBJECT}{member_id}"
    await conn.execute(
        update(reactions)
        .where(reactions.c.member_id == member_id)
        .where(reactions.c.comment_id.in_(in_community))
        .values(
            member_id=0,
            subject=case((reactions.c.subject == legacy, subject), else_=reactions.c.subject),
        )
    )
    await conn.execute(
        update(reports)
        .where(reports.c.subject == legacy)
        .where(reports.c.comment_id.in_(in_community))
        .values(subject=subject)
    )


async def _erase_comments(conn: AsyncConnection, community_id: int, member_id: int) -> int:
    """Blank the member's replied-to comments, delete the rest; returns how many went."""
    child = comments.alias("child")
    replied = exists().where(child.c.parent_id == comments.c.id)
    kept = (
        await conn.execute(
            update(comments)
            .where(comments.c.community_id == community_id)
            .where(comments.c.member_id == member_id)
            .where(replied)
            .values(
                status=DELETED,
                text=DELETED_TEXT,
                pseudonym=DELETED_TEXT,
                member_id=0,
                idempotency_key=func.concat("erased:", comments.c.id),
                likes=0,
                dislikes=0,
                reports=0,
            )
            .returning(comments.c.id)
        )
    ).all()
    theirs = _theirs(community_id, member_id)
    await conn.execute(delete(reactions).where(reactions.c.comment_id.in_(theirs)))
    await conn.execute(delete(reports).where(reports.c.comment_id.in_(theirs)))
    if kept:
        kept_ids = [row.id for row in kept]
        await conn.execute(delete(reactions).where(reactions.c.comment_id.in_(kept_ids)))
        await conn.execute(delete(reports).where(reports.c.comment_id.in_(kept_ids)))
    removed = (
        await conn.execute(
            delete(comments)
            .where(comments.c.community_id == community_id)
            .where(comments.c.member_id == member_id)
            .returning(comments.c.id)
        )
    ).all()
    return len(kept) + len(removed)


async def follow_up(
    erasure: SocialErasure,
    community_id: int,
    upstream: ConfessionsStubs,
    outbox: Outbox,
    queue_counter: QueueCounter,
) -> None:
    """Correct the counters of the threads that lost comments; withdraw the cards."""
    if not (erasure.threads or erasure.carded):
        return
    listed = await upstream.communities.ListCommunities(confessions_pb2.ListCommunitiesRequest())
    community = next((c for c in listed.communities if c.id == community_id), None)
    if community is None:
        return
    for confession_id, (count, first_erased) in erasure.threads.items():
        found = await upstream.confessions.GetConfession(
            confessions_pb2.GetConfessionRequest(
                community_id=community.id, confession_id=confession_id
            )
        )
        thread = pb.ThreadContext(
            community_id=community.id,
            confession_id=confession_id,
            confession_number=found.confession.number,
            channel_chat_id=community.channel_chat_id,
            channel_message_id=found.channel_message_id,
            bot_username=community.bot_username,
        )
        # Named by a comment that went, never by the member.
        await queue_counter(thread, count, f"x{first_erased}")
    if erasure.carded:
        await outbox.send(
            [
                OutgoingCall(
                    community_id=community.id,
                    method="editMessageText",
                    chat_id=community.admin_chat_id,
                    params={"text": domain.WITHDRAWN_CARD, "parse_mode": "HTML"},
                    idempotency_key=f"{card}-withdrawn:{comment_id}",
                    priority=Priority.INTERACTIVE,
                    # The worker drops the edit of a card that was never sent.
                    edit_of=f"{card}:{comment_id}",
                )
                for comment_id in erasure.carded
                for card in CARDS
            ]
        )
        # The notifier's copies of the cards lose the text too.
        await outbox.erase(
            community.id, [], [f"{card}:{c}" for c in erasure.carded for card in CARDS]
        )
