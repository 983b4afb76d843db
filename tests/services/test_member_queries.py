"""The cost in SQL statements of a /me view, a submission (Send), an approval and a
comment's notices."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from services.confessions import decision, notify_members, registration, submission
from services.confessions.communities_repository import CommunitiesRepository
from services.confessions.confessions_repository import ConfessionsRepository
from services.confessions.members_repository import MembersRepository
from services.confessions.rows import Recipient
from services.confessions.sealed import MemberSeal
from tests.support.communities import approve, new_community
from tests.support.statements import CountedDatabase
from veil.core.db import Database
from veil.core.errors import CommunityNotFoundError
from veil.core.sealing import Keyring
from veil.v1 import confessions_pb2


async def test_a_profile_view_is_one_statement(
    database: Database, counted: CountedDatabase, seal: MemberSeal
) -> None:
    repository = MembersRepository(database, seal)
    community = await new_community(database, seal, "queries")
    member, _ = await registration.register_member(
        database, seal, community.id, 4242, "subject-4242"
    )
    confession = (
        await submission.store(database, community.id, member.id, "counted", "q:1")
    ).confession
    for i in range(3):
        await repository.record_activity(
            community.id, member.id, comments_written=1, reactions_received=0, event_key=f"c{i}"
        )
    # A retried event counts once.
    await repository.record_activity(
        community.id, member.id, comments_written=1, reactions_received=0, event_key="c0"
    )
    await repository.record_activity(
        community.id, member.id, comments_written=0, reactions_received=2, event_key="r"
    )
    # The approval counts on the author's profile.
    await decision.decide(
        database,
        seal,
        community.id,
        confession.id,
        to="approved",
        decision="approve",
        moderator="A",
        reason="",
    )

    async with counted.counting() as statements:
        profile = await repository.profile(community.id, 4242)
    assert len(statements) == 1
    assert profile is not None
    assert (
        profile.confessions_sent,
        profile.confessions_approved,
        profile.comments_written,
        profile.reactions_received,
    ) == (1, 1, 3, 2)


async def test_a_submission_is_two_statements(
    database: Database, counted: CountedDatabase, seal: MemberSeal
) -> None:
    community = await new_community(database, seal, "counted")
    async with counted.counting() as statements:
        found = await submission.intake(database, seal, community.id, 5151, "subject-5151", "k:1")
        stored = await submission.store(database, community.id, found.member_id, "first", "k:1")
    # The checks' reads with the member's upsert, then the insert with its number,
    # the member's counter and the card's history: no BEGIN/COMMIT, no lock between.
    assert len(statements) == 2
    assert "BEGIN" not in statements
    assert found.existing is None and found.member_id > 0 and not found.banned
    assert found.admin_chat_id == -2
    assert stored.created and stored.confession.status == "pending"
    assert (stored.approved, stored.rejected) == (0, 0)

    # A retried Send finds the first one in the first statement.
    async with counted.counting() as statements:
        again = await submission.intake(database, seal, community.id, 5151, "subject-5151", "k:1")
    assert len(statements) == 1
    assert again.existing is not None
    assert again.existing.confession.id == stored.confession.id
    assert not again.existing.created

    # The card shows the author's history: one approved, one rejected before.
    second = await submission.store(database, community.id, found.member_id, "second", "k:2")
    for row, to, verb in ((stored, "approved", "approve"), (second, "rejected", "reject")):
        await decision.decide(
            database,
            seal,
            community.id,
            row.confession.id,
            to=to,
            decision=verb,
            moderator="A",
            reason="",
        )
    third = await submission.store(database, community.id, found.member_id, "third", "k:3")
    assert (third.approved, third.rejected) == (1, 1)
    assert [stored.confession.number + n for n in (1, 2)] == [
        second.confession.number,
        third.confession.number,
    ]


async def test_racing_retries_store_one_and_keep_numbers_gap_free(
    database: Database, seal: MemberSeal
) -> None:
    repository = MembersRepository(database, seal)
    community = await new_community(database, seal, "counted")
    member, _ = await registration.register_member(
        database, seal, community.id, 5252, "subject-5252"
    )
    first, second = await asyncio.gather(
        *(submission.store(database, community.id, member.id, "same", "race:1") for _ in "ab")
    )
    assert sorted([first.created, second.created]) == [False, True]
    assert first.confession.id == second.confession.id
    # The loser's number went back with its failed statement.
    after = await submission.store(database, community.id, member.id, "next", "race:2")
    assert after.confession.number == first.confession.number + 1
    profile = await repository.profile(community.id, 5252)
    assert profile is not None and profile.confessions_sent == 2


async def test_an_approval_is_one_statement_and_counts_once(
    database: Database, counted: CountedDatabase, seal: MemberSeal
) -> None:
    repository = MembersRepository(database, seal)
    community = await new_community(database, seal, "counted")
    member, _ = await registration.register_member(
        database, seal, community.id, 5353, "subject-5353"
    )
    stored = await submission.store(database, community.id, member.id, "to approve", "a:1")
    async with counted.counting() as statements:
        won = await approve(database, seal, community.id, stored.confession.id)
    # The transition, the author's counter, the publishing slot and the
    # community's channel for the post: one statement.
    assert len(statements) == 1
    assert won is not None and won.decision.won
    assert won.channel_chat_id == -1 and won.bot_username == "counted_bot"
    assert won.decision.author_telegram_id == 5353
    assert won.decision.publish_at is None

    # A second admin loses and reads the decision that stands.
    async with counted.counting() as statements:
        lost = await decision.decide(
            database,
            seal,
            community.id,
            stored.confession.id,
            to="rejected",
            decision="reject",
            moderator="B",
            reason="no",
        )
    assert len(statements) == 2
    assert lost is not None and not lost.decision.won
    assert lost.decision.confession.status == "approved" and lost.decision.moderator == "A"
    profile = await repository.profile(community.id, 5353)
    assert profile is not None and profile.confessions_approved == 1

    # The worker's report of the post: one statement, and the same post
    # reported again answers the same; another post of it changes nothing.
    confessions = ConfessionsRepository(database, seal)
    async with counted.counting() as statements:
        published = await confessions.record_publication(community.id, stored.confession.id, 77)
    assert len(statements) == 1
    assert published is not None and published[0].status == "published" and published[1] == 5353
    again = await confessions.record_publication(community.id, stored.confession.id, 77)
    assert again is not None and again[0] == published[0]
    assert await confessions.record_publication(community.id, stored.confession.id, 78) is None


async def test_a_comment_s_notices_count_the_writer_and_read_recipients_in_one_statement(
    database: Database, counted: CountedDatabase, seal: MemberSeal
) -> None:
    repository = MembersRepository(database, seal)
    community = await new_community(database, seal, "counted")
    writer, _ = await registration.register_member(
        database, seal, community.id, 5555, "subject-5555"
    )
    author, _ = await registration.register_member(
        database, seal, community.id, 5556, "subject-5556"
    )
    activity = confessions_pb2.RecordMemberActivityRequest(
        community_id=community.id, member_id=writer.id, comments_written=1, event_key="comment:1"
    )
    keys = [(community.id, author.id), (community.id, author.id), (community.id, 987_654_321)]
    # asyncpg looks an array type up once per connection, before its first use.
    await notify_members.count_and_read(database, seal, None, keys)
    async with counted.counting() as statements:
        found = await notify_members.count_and_read(database, seal, activity, keys)
    assert len(statements) == 1
    # A member who is not there (erased) is not found; the sealed chat is opened.
    assert found == {(community.id, author.id): Recipient(5556, True, False)}
    # A retried call counts once; a call without activity counts nothing.
    await notify_members.count_and_read(database, seal, activity, keys[:1])
    await notify_members.count_and_read(database, seal, None, keys[:1])
    await repository.record_activity(
        community.id, writer.id, comments_written=1, reactions_received=0, event_key="comment:1"
    )
    profile = await repository.profile(community.id, 5555)
    assert profile is not None and profile.comments_written == 1


async def test_racing_approvals_with_an_interval_take_one_slot_each(
    database: Database, seal: MemberSeal
) -> None:
    community = await new_community(database, seal, "counted")
    await CommunitiesRepository(database, seal).set_rules(
        community.id, {"publish_interval_minutes": 10}
    )
    member, _ = await registration.register_member(
        database, seal, community.id, 5454, "subject-5454"
    )
    rows = [
        await submission.store(database, community.id, member.id, f"c{i}", f"i:{i}")
        for i in range(3)
    ]
    decided = await asyncio.gather(
        *(
            decision.decide(
                database,
                seal,
                community.id,
                row.confession.id,
                to="approved",
                decision="approve",
                moderator="A",
                reason="",
            )
            for row in rows
        )
    )
    slots = sorted(
        (d.decision.publish_at for d in decided if d is not None and d.decision.publish_at),
    )
    # The first goes at once; the others 10 and 20 minutes later.
    assert len(slots) == 2
    assert round((slots[1] - slots[0]).total_seconds()) == 600


class _CountingSeal(MemberSeal):
    """The stack's seal, counting the data keys it mints (each is a wrap with the master key)."""

    minted = 0

    def new_member(
        self, community_id: int, telegram_user_id: int, *, lookup: bytes | None = None
    ) -> dict[str, Any]:
        self.minted += 1
        return super().new_member(community_id, telegram_user_id, lookup=lookup)


async def test_registering_an_existing_member_is_one_statement_without_a_new_key(
    database: Database, counted: CountedDatabase, seal_keys: Keyring
) -> None:
    seal = _CountingSeal(seal_keys)
    community = await new_community(database, seal, "counted")
    with_thread = await submission.store(
        database,
        community.id,
        (await registration.register_member(database, seal, community.id, 5454, "s-5454"))[0].id,
        "a thread",
        "t:1",
    )
    assert seal.minted == 1
    async with counted.counting() as statements:
        member, thread = await registration.register_member(
            database, seal, community.id, 5454, "s-5454", with_thread.confession.number
        )
    assert len(statements) == 1
    assert seal.minted == 1
    assert not member.created and member.id > 0
    assert thread is not None and thread.confession.id == with_thread.confession.id
    # A new member: the find, then the upsert with a freshly sealed row.
    async with counted.counting() as statements:
        fresh, _ = await registration.register_member(database, seal, community.id, 5455, "s-5455")
    assert len(statements) == 2 and "BEGIN" not in statements
    assert fresh.created and seal.minted == 2
    # Its chat opens with the stack's keys: the row was sealed as before.
    recipients = await notify_members.count_and_read(
        database, seal, None, [(community.id, fresh.id)]
    )
    assert recipients[(community.id, fresh.id)].telegram_user_id == 5455


async def test_registering_in_an_unknown_community_is_refused(
    database: Database, seal: MemberSeal
) -> None:
    with pytest.raises(CommunityNotFoundError):
        await registration.register_member(database, seal, 987_654_321, 5456, "s-5456")
