"""An erasure racing the report of a channel post that just landed.

The worker sends an approved confession's post and then reports its message id
(``RecordPublication``). A member erasing themselves in between must not leave
the post up: either the erasure sees the post and changes it, or the report
finds the confession erased and takes the post down. Never both missed.
"""

from __future__ import annotations

import asyncio
from typing import Any

from services.confessions import registration, submission
from services.confessions.confessions_repository import ConfessionsRepository
from services.confessions.members_repository import MembersRepository
from services.confessions.rows import Erasure
from services.confessions.sealed import MemberSeal
from tests.support.communities import approve, new_community
from veil.core.db import Database


async def test_a_post_reported_during_an_erasure_is_not_left_up(
    database: Database, seal: MemberSeal
) -> None:
    community = await new_community(database, seal, "race")
    member, _ = await registration.register_member(
        database, seal, community.id, 5656, "subject-5656"
    )
    stored = await submission.store(database, community.id, member.id, "on its way", "race:e")
    approved = await approve(database, seal, community.id, stored.confession.id)
    assert approved is not None and approved.decision.won
    confessions = ConfessionsRepository(database, seal)
    reported: list[asyncio.Task[Any]] = []

    async def post_lands_meanwhile(erasure: Erasure) -> None:
        # The erasure has read what to change; the post's report arrives now and
        # is given a second (ample for one UPDATE) before the erasure commits.
        assert erasure.posts == []
        report = asyncio.ensure_future(
            confessions.record_publication(community.id, stored.confession.id, 4242)
        )
        reported.append(report)
        await asyncio.wait((report,), timeout=1.0)

    erased = await MembersRepository(database, seal).erase_member(
        community.id, 5656, "subject-5656", post_lands_meanwhile
    )
    assert erased is not None
    # The report waited for the erasure and found the confession erased, so the
    # post is taken down (moderate.record_publication queues the deletion).
    assert await reported[0] is None
    assert await confessions.is_deleted(community.id, stored.confession.id)
