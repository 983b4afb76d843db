"""Issue 12's migrations applied to databases that already hold rows.

A scratch database of the suite's Postgres is migrated to the revisions before
this round (confessions 0003, social 0003, notifier 0002), filled with rows as
the old code wrote them, and migrated to head: bans keep their members until
the service adopts them under subjects, reports and reactions keep counting
for the members who made them, queued messages stay. Then down and up again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from alembic import command

from services.confessions import registration
from services.confessions.protection import ProtectionRepository
from services.social import reporting
from services.social.repository import SocialRepository
from services.social.thread_states import ThreadStateUnknownError
from tools.devstack.infra.config import ADMIN_ROLE, InfraConfig
from tools.devstack.infra.postgres_sql import psql
from veil.core import migrations
from veil.core.db import Database
from veil.core.hashing import subject_token
from veil.core.settings import DatabaseSettings
from veil.v1 import common_pb2

SCRATCH = "veil_migration_test"
BEFORE = {"confessions": "0003", "social": "0003", "notifier": "0002"}
KEY = b"migration-test-key"
USER_A, USER_B = 7_399_000_001, 7_399_000_002


def _dsn(infra_config: InfraConfig) -> str:
    role = ADMIN_ROLE
    return f"postgresql+asyncpg://{role}:{role}@127.0.0.1:{infra_config.pg_port}/{SCRATCH}"


async def _sql(infra_config: InfraConfig, sql: str) -> str:
    return await asyncio.to_thread(psql, infra_config, f"\\connect {SCRATCH}\n{sql}")


async def _migrate(infra_config: InfraConfig, service: str, revision: str) -> None:
    await asyncio.to_thread(migrations.upgrade, service, _dsn(infra_config), revision)


@pytest.fixture
async def scratch(infra_config: InfraConfig) -> AsyncIterator[Database]:
    """An empty database with the three schemas, dropped afterwards."""
    await asyncio.to_thread(psql, infra_config, f"DROP DATABASE IF EXISTS {SCRATCH}")
    await asyncio.to_thread(psql, infra_config, f"CREATE DATABASE {SCRATCH}")
    await _sql(
        infra_config, "CREATE SCHEMA confessions; CREATE SCHEMA social; CREATE SCHEMA notifier"
    )
    db = Database.from_settings(
        DatabaseSettings(db_primary_dsn=_dsn(infra_config)),  # type: ignore[arg-type]
        "migration-test",
    )
    yield db
    await db.dispose()
    await asyncio.to_thread(psql, infra_config, f"DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)")


async def test_upgrade_keeps_bans_markers_and_messages_written_before_it(
    infra_config: InfraConfig, scratch: Database
) -> None:
    for service, revision in BEFORE.items():
        await _migrate(infra_config, service, revision)
    await _sql(
        infra_config,
        f"""
        INSERT INTO confessions.communities
            (id, bot_id, bot_token, bot_username, channel_chat_id, admin_chat_id, title)
            VALUES (1, 1, '1:x', 'b', -1, -2, 'T');
        INSERT INTO confessions.members (id, community_id, telegram_user_id)
            VALUES (10, 1, {USER_A}), (11, 1, {USER_B});
        INSERT INTO confessions.bans (community_id, member_id, label, reason, until, serial)
            VALUES (1, 10, 'confession #1', 'spam', NULL, 2),
                   (1, 11, 'Misty Heron 417', '', now() + interval '1 day', 1);
        INSERT INTO confessions.member_events (member_id, event_key) VALUES (10, 'e');
        INSERT INTO social.comments
            (id, community_id, confession_id, member_id, pseudonym, text, idempotency_key,
             likes, reports)
            VALUES (100, 1, 5, 11, 'Misty Heron 417', 'hello', 'k', 1, 1);
        INSERT INTO social.reports (comment_id, member_id) VALUES (100, 10);
        INSERT INTO social.reactions (comment_id, member_id, value) VALUES (100, 10, 1);
        INSERT INTO notifier.outbox
            (community_id, chat_id, method, params, priority, idempotency_key, status)
            VALUES (1, {USER_A}, 'sendMessage', '{{"text": "hi"}}', 2, 'card:1', 'sent');
        """,
    )
    for service in BEFORE:
        await _migrate(infra_config, service, "head")

    # Bans: one row each with an id, still naming their member until adopted.
    assert (
        await _sql(
            infra_config,
            "SELECT id, member_id, subject IS NULL, label FROM confessions.bans ORDER BY id",
        )
        == "1|10|t|confession #1\n2|11|t|Misty Heron 417"
    )
    protection = ProtectionRepository(scratch, lambda c, u: subject_token(KEY, c, u))
    assert await protection.adopt_legacy_bans() == 2
    assert (
        await _sql(
            infra_config, "SELECT count(*) FROM confessions.bans WHERE member_id IS NOT NULL"
        )
        == "0"
    )
    assert [b.label for b in await protection.list_bans(1)] == ["Misty Heron 417", "confession #1"]
    # RegisterMember's statement names its tables as the service's search path has them.
    confessions_db = Database.from_settings(
        DatabaseSettings(db_primary_dsn=_dsn(infra_config)),  # type: ignore[arg-type]
        "confessions",
    )
    try:
        member, _ = await registration.register_member(
            confessions_db, 1, USER_A, subject_token(KEY, 1, USER_A)
        )
    finally:
        await confessions_db.dispose()
    assert member.ban is not None and member.ban.label == "confession #1"
    assert await _sql(infra_config, "SELECT count(*) FROM confessions.member_events") == "1"

    # Reports and reactions keep counting for whoever made them.
    assert await _sql(infra_config, "SELECT comment_id, subject FROM social.reports") == "100|m:10"
    assert (
        await _sql(infra_config, "SELECT subject, member_id, value FROM social.reactions")
        == "m:10|10|1"
    )
    social = SocialRepository(scratch)
    # The thread got its state row, its author unknown (no author's comment):
    # the servicer asks the confessions service whether it is open, then retries.
    assert (
        await _sql(
            infra_config,
            "SELECT confession_id, author_member_id IS NULL, "
            "closed_at IS NULL FROM social.thread_states",
        )
        == "5|t|t"
    )
    with pytest.raises(ThreadStateUnknownError):
        await _report(scratch, known_open=False)
    again = await _report(scratch, known_open=True)
    # The report made before 0006 counts as a full one.
    assert not again.counted and again.reports == 1 and again.total == 100
    same = await social.react(1, 5, 100, 10, 1, "a-new-subject", known_open=True)
    assert (same.likes, same.delta) == (1, 0)

    # Messages stay as they were.
    assert (
        await _sql(
            infra_config,
            "SELECT idempotency_key, status, sent_message_id IS NULL, edit_of IS NULL "
            "FROM notifier.outbox",
        )
        == "card:1|sent|t|t"
    )

    # Down to the revisions before, and up again.
    for service, revision in BEFORE.items():
        config = migrations.alembic_config(service, _dsn(infra_config))
        await asyncio.to_thread(command.downgrade, config, revision)
    assert await _sql(infra_config, "SELECT count(*) FROM social.reports") == "1"
    for service in BEFORE:
        await _migrate(infra_config, service, "head")


async def _report(db: Database, *, known_open: bool) -> reporting.WeightedReport:
    """A report of comment 100 by member 10 under a new subject (0006's weighted one)."""
    return await reporting.report(
        db,
        community_id=1,
        confession_id=5,
        comment_id=100,
        member_id=10,
        subjects=["a-new-subject", "m:10"],
        reason="other",
        reporter=common_pb2.ReporterStanding(),
        threshold=300,
        known_open=known_open,
    )
