"""The cost of a /me view in SQL statements, and the approval counter hook."""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event

from services.confessions.repository import ConfessionsRepository, count_approved
from tools.devstack import infra
from veil.core.db import Database
from veil.core.settings import DatabaseSettings

_bot_ids = itertools.count(int(time.time()) % 100_000 * 1000 + 8_100_000_000)


@pytest.fixture
async def database(infra_config: infra.InfraConfig, stack: Any) -> AsyncIterator[Database]:
    role = infra.SERVICE_ROLES["confessions"]
    settings = DatabaseSettings(
        db_primary_dsn=infra_config.pg_dsn(role),  # type: ignore[arg-type]
        db_replica_dsn=infra_config.pg_dsn(role, replica=True),  # type: ignore[arg-type]
    )
    db = Database.from_settings(settings, "confessions")
    yield db
    await db.dispose()


async def test_a_profile_view_is_one_statement(database: Database) -> None:
    repository = ConfessionsRepository(database)
    bot_id = next(_bot_ids)
    # A well-formed token: the gateways serve every community, this one too.
    community = await repository.upsert_community(
        bot_id=bot_id,
        bot_token=f"{bot_id}:{'x' * 30}",
        bot_username="queries_bot",
        channel_chat_id=-1,
        admin_chat_id=-2,
        title="Queries",
    )
    member = await repository.register_member(community.id, 4242, "subject-4242")
    confession = (
        await repository.submit_confession(community.id, member.id, "counted", "q:1")
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
    # The moderation transition's hook, inside its own transaction.
    async with database.write() as conn:
        await count_approved(conn, confession.id)

    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engines = [database.primary.sync_engine]
    if database.replica is not None:
        engines.append(database.replica.sync_engine)
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        profile = await repository.profile(community.id, 4242)
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1
    assert profile is not None
    assert (
        profile.confessions_sent,
        profile.confessions_approved,
        profile.comments_written,
        profile.reactions_received,
    ) == (1, 1, 3, 2)
