"""What one thread page and one reaction cost in SQL statements."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from services.social import commenting, reporting
from services.social.models import comments, thread_states
from services.social.repository import SocialRepository
from services.social.rows import CommentRow, Sort
from services.social.thread_states import close_authors_threads
from tests.support.statements import CountedDatabase, work
from tools.devstack.infra.config import SERVICE_ROLES, InfraConfig
from veil.core.settings import DatabaseSettings
from veil.v1 import common_pb2


@pytest.fixture
async def counted(infra_config: InfraConfig) -> AsyncIterator[CountedDatabase]:
    settings = DatabaseSettings(
        db_primary_dsn=infra_config.pg_dsn(SERVICE_ROLES["social"]),  # type: ignore[arg-type]
        db_replica_dsn=infra_config.pg_dsn(SERVICE_ROLES["social"], replica=True),  # type: ignore[arg-type]
    )
    counted = CountedDatabase(settings, "social")
    yield counted
    await counted.db.dispose()


@pytest.fixture
def repository(counted: CountedDatabase) -> SocialRepository:
    """The repository on the counted database."""
    return SocialRepository(counted.db)


async def _first_comment(
    repository: SocialRepository,
    community_id: int,
    confession_id: int,
    *,
    author: int,
    writer: int,
    text: str,
) -> CommentRow:
    """A thread's first comment, by ``writer`` (the thread's author ``author``)."""
    added = await commenting.add_comment(
        repository.db,
        community_id=community_id,
        confession_id=confession_id,
        author_member_id=author,
        parent_id=None,
        member_id=writer,
        pseudonym="someone",
        by_author=False,
        text_=text,
        idempotency_key=text,
    )
    return added.row


async def _report_figures(repository: SocialRepository, comment_id: int) -> tuple[Any, ...]:
    """The comment's status, report count and report weight as stored."""
    async with repository.db.read_own() as conn:
        stored = (
            await conn.execute(
                select(comments.c.status, comments.c.reports, comments.c.report_weight).where(
                    comments.c.id == comment_id
                )
            )
        ).one()
    return tuple(stored)


async def test_one_thread_page_is_one_statement(
    repository: SocialRepository, counted: CountedDatabase, stack: Any
) -> None:
    """Thread pages, full and past the end, counted in statements.

    One test because the pages are of the same seeded thread.
    """
    community_id, confession_id = 7_000_001, 7_000_002
    ids: list[int] = []
    for i in range(12):
        row, *_ = await commenting.add_comment(
            repository.db,
            community_id=community_id,
            confession_id=confession_id,
            author_member_id=9_000_099,
            parent_id=ids[0] if ids and i % 2 else None,
            member_id=100 + i % 4,
            pseudonym=f"name {i % 4}",
            by_author=False,
            text_=f"comment {i}",
            idempotency_key=f"q{i}",
        )
        ids.append(row.id)
    for comment_id in ids[:6]:
        await repository.react(community_id, confession_id, comment_id, 101, 1, "s101")
    # Pages not read for one's own writes come from the replica: let it replay
    # the seeding first (not counted), so that the pages below are full.
    deadline = time.monotonic() + 30
    while True:
        seeded = await repository.thread_page(
            community_id=community_id,
            confession_id=confession_id,
            viewer_member_id=101,
            sort=Sort.OLDEST,
            limit=20,
            offset=0,
            consistent=False,
        )
        if len(seeded.comments) == 12 and sum(c.likes for c in seeded.comments) == 6:
            break
        assert time.monotonic() < deadline, "the replica did not replay the seeded thread"
        await asyncio.sleep(0.05)
    for sort in Sort:
        async with counted.counting() as statements:
            page = await repository.thread_page(
                community_id=community_id,
                confession_id=confession_id,
                viewer_member_id=101,
                sort=sort,
                limit=5,
                offset=5,
                consistent=sort is Sort.TOP,
            )
        assert len(page.comments) == 5 and page.total == 12
        assert len(statements) == 1 and statements[0].lstrip().upper().startswith("SELECT")
        assert any(c.parent_text for c in page.comments)
    # Past the end: the page is empty and the size costs one more statement.
    async with counted.counting() as statements:
        page = await repository.thread_page(
            community_id=community_id,
            confession_id=confession_id,
            viewer_member_id=101,
            sort=Sort.NEWEST,
            limit=5,
            offset=20,
            consistent=False,
        )
    assert (page.comments, page.total, len(statements)) == ([], 12, 2)
    assert {
        c.my_reaction
        for c in (
            await repository.thread_page(
                community_id=community_id,
                confession_id=confession_id,
                viewer_member_id=101,
                sort=Sort.OLDEST,
                limit=5,
                offset=0,
                consistent=True,
            )
        ).comments
    } == {1}


async def test_a_reaction_reads_the_thread_state_here(
    repository: SocialRepository, counted: CountedDatabase, stack: Any
) -> None:
    """An open thread's reaction: the lock with the thread's state, the old
    reaction removed, the new one with the counters; a closed thread is refused."""
    community_id, confession_id, author = 7_100_001, 7_100_002, 9_100_055
    # Member ids far above the stack's own: the erasure tests scan every row for theirs.
    row = await _first_comment(
        repository, community_id, confession_id, author=author, writer=9_100_056, text="r1"
    )
    db = repository.db
    # asyncpg looks an array type (the subjects) up once per connection, before its first use.
    await repository.react(community_id, confession_id, row.id, 9_100_057, 0, "s57")
    async with counted.counting() as statements:
        result = await repository.react(community_id, confession_id, row.id, 9_100_057, 1, "s57")
    assert (result.likes, result.delta) == (1, 1)
    # In one transaction: the lock with the thread's state, the old reaction
    # removed, the new one with the counters.
    assert len(work(statements)) == 3 and len(statements) == 5
    assert "thread_states" in work(statements)[0]
    # Pressed again with 👎: the like goes, the dislike counts.
    again = await repository.react(community_id, confession_id, row.id, 9_100_057, -1, "s57")
    assert (again.likes, again.dislikes, again.delta, again.version) == (0, 1, 0, "2")

    async with db.write() as conn:
        await conn.execute(close_authors_threads(community_id, author))
    for attempt in (
        repository.react(community_id, confession_id, row.id, 9_100_058, 1, "s58"),
        reporting.report(
            repository.db,
            community_id=community_id,
            confession_id=confession_id,
            comment_id=row.id,
            member_id=9_100_058,
            subjects=["s58"],
            reason="spam",
            reporter=common_pb2.ReporterStanding(),
            threshold=300,
        ),
    ):
        with pytest.raises(LookupError):
            await attempt
    # A comment arriving later does not reopen it, nor name the author again.
    await commenting.add_comment(
        repository.db,
        community_id=community_id,
        confession_id=confession_id,
        author_member_id=author,
        parent_id=None,
        member_id=9_100_059,
        pseudonym="late",
        by_author=False,
        text_="late",
        idempotency_key="r2",
    )
    with pytest.raises(LookupError):
        await repository.react(community_id, confession_id, row.id, 9_100_058, 1, "s58")
    async with db.read_own() as conn:
        kept = (
            await conn.execute(
                select(thread_states.c.author_member_id).where(
                    thread_states.c.confession_id == confession_id
                )
            )
        ).scalar_one()
    assert kept is None


async def test_a_reply_and_its_follow_up_slots_are_two_statements(
    repository: SocialRepository, counted: CountedDatabase, stack: Any
) -> None:
    """The reply's insert names the parent's writer (to tell them); the slots of the
    counter edit and both notices are taken in one more statement."""
    community_id, confession_id, author = 7_200_001, 7_200_002, 9_200_055

    async def add(member_id: int, parent_id: int | None, key: str) -> commenting.Added:
        return await commenting.add_comment(
            repository.db,
            community_id=community_id,
            confession_id=confession_id,
            author_member_id=author,
            parent_id=parent_id,
            member_id=member_id,
            pseudonym=f"writer {member_id}",
            by_author=False,
            text_=key,
            idempotency_key=key,
        )

    parent = await add(9_200_056, None, "p1")
    assert parent.parent_writer is None and parent.visible == 1
    keys = {f"counter:{confession_id}": 10.0, f"notify:{author}:{confession_id}": 60.0}
    keys[f"notify:9200056:{confession_id}"] = 60.0
    # asyncpg looks the array types up once per connection, before their first use.
    await repository.pace_many({f"warm:{confession_id}": 1.0})
    async with counted.counting() as statements:
        reply = await add(9_200_057, parent.row.id, "p2")
        slots = await repository.pace_many(keys)
    assert len(statements) == 2
    assert (reply.created, reply.visible, reply.parent_writer) == (True, 2, 9_200_056)
    # The first send of a quiet period leaves at once; the next one waits its interval.
    assert {slot.at for slot in slots.values()} == {None}
    later = await repository.pace_many(keys)
    assert all(slot.at is not None and slot.pending == 1 for slot in later.values())
    # A redelivered reply finds the first, and its parent's writer.
    again = await add(9_200_057, parent.row.id, "p2")
    assert (again.created, again.row.id, again.parent_writer) == (False, reply.row.id, 9_200_056)


async def test_a_report_is_two_statements_and_three_when_it_hides(
    repository: SocialRepository, counted: CountedDatabase, stack: Any
) -> None:
    """A report: the lock (with the thread's state and the reporter's record), then
    the report with the comment's figures; the one that hides the comment also
    reads its reasons for the admins' card. A second report by any of the
    reporter's subjects counts nothing."""
    community_id, confession_id, author = 7_300_001, 7_300_002, 9_300_055
    row = await _first_comment(
        repository, community_id, confession_id, author=author, writer=9_300_056, text="rp1"
    )

    async def report(member_id: int, subjects: list[str], reason: str) -> reporting.WeightedReport:
        return await reporting.report(
            repository.db,
            community_id=community_id,
            confession_id=confession_id,
            comment_id=row.id,
            member_id=member_id,
            subjects=subjects,
            reason=reason,
            # 20 + 30 days + 2 approved confessions (40): 0.9 of a report.
            reporter=common_pb2.ReporterStanding(days_member=45, confessions_approved=2),
            threshold=150,
        )

    # asyncpg looks the array type up once per connection, before its first use.
    await repository.react(community_id, confession_id, row.id, 9_300_060, 0, "s60")
    async with counted.counting() as statements:
        first = await report(9_300_057, ["s57"], "spam")
    assert (first.counted, first.hidden_now, first.reports, first.weight, first.total) == (
        True,
        False,
        1,
        90,
        90,
    )
    assert len(work(statements)) == 2 and len(statements) == 4
    assert "thread_states" in work(statements)[0] and "FOR UPDATE" in work(statements)[0]
    # The same member under an older subject of theirs: not counted, nothing moves.
    async with counted.counting() as statements:
        again = await report(9_300_057, ["s57-new", "s57"], "other")
    assert (again.counted, again.reports, again.total) == (False, 1, 90)
    assert len(work(statements)) == 2
    async with counted.counting() as statements:
        hiding = await report(9_300_058, ["s58"], "harassment")
    assert (hiding.counted, hiding.hidden_now, hiding.reports, hiding.total) == (
        True,
        True,
        2,
        180,
    )
    assert hiding.reasons == "harassment: 1 · spam: 1"
    assert len(work(statements)) == 3
    after = await report(9_300_059, ["s59"], "spam")
    assert (after.counted, after.hidden_now, after.reports, after.total) == (True, False, 3, 270)
    assert await _report_figures(repository, row.id) == ("hidden", 3, 270)


async def test_of_concurrent_reports_exactly_one_hides_and_every_one_counts(
    repository: SocialRepository, stack: Any
) -> None:
    """Twelve members report one comment at once: the comment's figures are the
    sum of all twelve, and exactly the report that crossed the threshold hid it."""
    community_id, confession_id = 7_400_001, 7_400_002
    row = await _first_comment(
        repository, community_id, confession_id, author=9_400_055, writer=9_400_056, text="rc1"
    )
    members = range(9_400_100, 9_400_112)
    results = await asyncio.gather(
        *(
            reporting.report(
                repository.db,
                community_id=community_id,
                confession_id=confession_id,
                comment_id=row.id,
                member_id=member,
                subjects=[f"s{member}"],
                reason="spam",
                reporter=common_pb2.ReporterStanding(),  # 0.2 each
                threshold=100,
            )
            for member in members
        )
    )
    assert all(r.counted and r.weight == 20 for r in results)
    assert sorted(r.reports for r in results) == list(range(1, 13))
    assert sorted(r.total for r in results) == [20 * n for n in range(1, 13)]
    hiders = [r for r in results if r.hidden_now]
    assert len(hiders) == 1 and hiders[0].total == 100 and hiders[0].reasons == "spam: 5"
    assert await _report_figures(repository, row.id) == ("hidden", 12, 240)
