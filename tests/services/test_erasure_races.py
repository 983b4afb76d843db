"""An erasure racing the report of a channel post that just landed.

The worker sends an approved confession's post and then reports its message id
(``RecordPublication``). A member erasing themselves in between must not leave
the post up: either the erasure sees the post and changes it, or the report
finds the confession erased and takes the post down. Never both missed.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.confessions import decision, registration, submission
from services.confessions.communities_repository import CommunitiesRepository
from services.confessions.confessions_repository import ConfessionsRepository
from services.confessions.members_repository import MembersRepository
from services.confessions.rows import Erasure
from services.confessions.sealed import MemberSeal
from tools.devstack.infra.config import SERVICE_ROLES, InfraConfig
from veil.core.db import Database
from veil.core.sealing import Keyring
from veil.core.settings import DatabaseSettings

_bot_ids = itertools.count(int(time.time()) % 100_000 * 1000 + 8_200_000_000)


@pytest.fixture
async def database(infra_config: InfraConfig, stack: Any) -> AsyncIterator[Database]:
    role = SERVICE_ROLES["confessions"]
    db = Database.from_settings(
        DatabaseSettings(
            db_primary_dsn=infra_config.pg_dsn(role),  # type: ignore[arg-type]
            db_replica_dsn=infra_config.pg_dsn(role, replica=True),  # type: ignore[arg-type]
        ),
        "confessions",
    )
    yield db
    await db.dispose()


async def test_a_post_reported_during_an_erasure_is_not_left_up(
    database: Database, seal_keys: Keyring
) -> None:
    seal = MemberSeal(seal_keys)
    bot_id = next(_bot_ids)
    community = await CommunitiesRepository(database, seal).upsert_community(
        bot_id=bot_id,
        bot_token=f"{bot_id}:{'x' * 30}",
        bot_username="race_bot",
        channel_chat_id=-1,
        admin_chat_id=-2,
        title="Race",
    )
    member, _ = await registration.register_member(
        database, seal, community.id, 5656, "subject-5656"
    )
    stored = await submission.store(database, community.id, member.id, "on its way", "race:e")
    approved = await decision.decide(
        database,
        seal,
        community.id,
        stored.confession.id,
        to="approved",
        decision="approve",
        moderator="A",
        reason="",
    )
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
