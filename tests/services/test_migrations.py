"""Issue 12's migrations applied to databases that already hold rows.

A scratch database of the suite's Postgres is migrated to the revisions before
this round (confessions 0003, social 0003, notifier 0002), filled with rows as
the old code wrote them, and migrated to head: bans keep their members until
the service adopts them under subjects, reports and reactions keep counting
for the members who made them, queued messages stay. Then down and up again
where a downgrade is allowed (social); the sealing migrations refuse one.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator

import pytest
from alembic import command

from services.confessions import notify_members, registration
from services.confessions.communities_repository import CommunitiesRepository
from services.confessions.members_repository import MembersRepository
from services.confessions.protection import ProtectionRepository
from services.confessions.sealed import MemberSeal
from services.notifier.repository import NotifierRepository
from services.notifier.repository.rows import NewMessage
from services.social import reporting
from services.social.repository import SocialRepository
from services.social.thread_states import ThreadStateUnknownError
from tools.devstack.infra.config import ADMIN_ROLE, PG_BIN, InfraConfig
from tools.devstack.infra.postgres_sql import psql
from veil.core import migrations
from veil.core.db import Database
from veil.core.hashing import subject_token
from veil.core.sealing import Keyring, new_master_key
from veil.core.settings import DatabaseSettings
from veil.v1 import common_pb2

SCRATCH = "veil_migration_test"
BEFORE = {"confessions": "0003", "social": "0003", "notifier": "0002"}
KEY = b"migration-test-key"
MASTER_KEYS = f"t1:{new_master_key()}"
LOOKUP_KEY = "migration-test-lookup-key-0123456789abcdef"
SEAL = MemberSeal(Keyring.parse(MASTER_KEYS, LOOKUP_KEY))
USER_A, USER_B = 7_399_000_001, 7_399_000_002


def _dsn(infra_config: InfraConfig) -> str:
    role = ADMIN_ROLE
    return f"postgresql+asyncpg://{role}:{role}@127.0.0.1:{infra_config.pg_port}/{SCRATCH}"


async def _sql(infra_config: InfraConfig, sql: str) -> str:
    return await asyncio.to_thread(psql, infra_config, f"\\connect {SCRATCH}\n{sql}")


def _schema_db(infra_config: InfraConfig, schema: str) -> Database:
    """The scratch database as the ``schema`` service's repositories use it."""
    return Database.from_settings(
        DatabaseSettings(db_primary_dsn=_dsn(infra_config)),  # type: ignore[arg-type]
        schema,
    )


async def _migrate(infra_config: InfraConfig, service: str, revision: str) -> None:
    await asyncio.to_thread(migrations.upgrade, service, _dsn(infra_config), revision)


async def _migrate_down(infra_config: InfraConfig, service: str, revision: str) -> None:
    config = migrations.alembic_config(service, _dsn(infra_config))
    await asyncio.to_thread(command.downgrade, config, revision)


@pytest.fixture
async def scratch(
    infra_config: InfraConfig, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Database]:
    """An empty database with the three schemas, dropped afterwards.

    The sealing migrations read the keys from the environment, as in the chart's Jobs.
    """
    monkeypatch.setenv("VEIL_SEAL_MASTER_KEYS", MASTER_KEYS)
    monkeypatch.setenv("VEIL_SEAL_LOOKUP_KEY", LOOKUP_KEY)
    await asyncio.to_thread(psql, infra_config, f"DROP DATABASE IF EXISTS {SCRATCH}")
    await asyncio.to_thread(psql, infra_config, f"CREATE DATABASE {SCRATCH}")
    await _sql(
        infra_config, "CREATE SCHEMA confessions; CREATE SCHEMA social; CREATE SCHEMA notifier"
    )
    db = _schema_db(infra_config, "migration-test")
    yield db
    await db.dispose()
    await asyncio.to_thread(psql, infra_config, f"DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)")


async def test_upgrade_keeps_bans_markers_and_messages_written_before_it(
    infra_config: InfraConfig, scratch: Database
) -> None:
    """Rows written under the old schemas, then the upgrade to head.

    One test because every check reads the same upgraded database.
    """
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
    protection = ProtectionRepository(scratch, lambda c, u: subject_token(KEY, c, u), SEAL)
    assert await protection.adopt_legacy_bans() == 2
    assert (
        await _sql(
            infra_config, "SELECT count(*) FROM confessions.bans WHERE member_id IS NOT NULL"
        )
        == "0"
    )
    assert [b.label for b in await protection.list_bans(1)] == ["Misty Heron 417", "confession #1"]
    # RegisterMember's statement names its tables as the service's search path has them.
    confessions_db = _schema_db(infra_config, "confessions")
    try:
        member, _ = await registration.register_member(
            confessions_db, SEAL, 1, USER_A, subject_token(KEY, 1, USER_A)
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

    # Down to the revisions before, and up again (social); the sealed schemas refuse.
    await _migrate_down(infra_config, "social", BEFORE["social"])
    assert await _sql(infra_config, "SELECT count(*) FROM social.reports") == "1"
    await _migrate(infra_config, "social", "head")
    for service in ("confessions", "notifier"):
        with pytest.raises(RuntimeError, match="refused"):
            await _migrate_down(infra_config, service, BEFORE[service])


SEALING_BEFORE = {"confessions": "0006", "social": "head", "notifier": "0004"}
TOKEN = "7399000099:AAHsecretTokenPartThatMustNotLeak0123"


async def test_sealing_migrations_convert_a_filled_database_that_then_still_works(
    infra_config: InfraConfig, scratch: Database
) -> None:
    """Issue 15: a database as the version before sealing wrote it is sealed in place,
    and everything still works on it: notices reach members, bans hold, /me counts,
    threads keep their pseudonyms; no Telegram id or token is left in clear."""
    for service, revision in SEALING_BEFORE.items():
        await _migrate(infra_config, service, revision)
    banned = subject_token(KEY, 1, USER_B)
    await _sql(
        infra_config,
        f"""
        INSERT INTO confessions.communities
            (id, bot_id, bot_token, bot_username, channel_chat_id, admin_chat_id, title)
            VALUES (1, 7399000099, '{TOKEN}', 'b', -1001, -1002, 'T');
        INSERT INTO confessions.members
            (id, community_id, telegram_user_id, confessions_sent, confessions_approved,
             comments_written, reactions_received, notifications_enabled)
            VALUES (10, 1, {USER_A}, 3, 2, 5, 7, true), (11, 1, {USER_B}, 1, 0, 0, 0, true);
        INSERT INTO confessions.confessions (community_id, number, member_id, text, status,
            idempotency_key) VALUES (1, 1, 10, 'old confession', 'published', 'k1');
        INSERT INTO confessions.bans (community_id, subject, label, reason)
            VALUES (1, '{banned}', 'confession #2', 'spam');
        INSERT INTO social.comments
            (id, community_id, confession_id, member_id, pseudonym, text, idempotency_key)
            VALUES (100, 1, 1, 11, 'Misty Heron 417', 'hello', 'c1');
        INSERT INTO notifier.outbox
            (community_id, chat_id, method, params, priority, idempotency_key, status,
             unsure_after)
            VALUES
            (1, {USER_A}, 'sendMessage', '{{"chat_id": {USER_A}, "text": "queued"}}', 2,
             'notice:q', 'queued', 41),
            (1, {USER_A}, 'sendMessage', '{{"chat_id": {USER_A}, "text": "sent"}}', 2,
             'notice:s', 'sent', NULL),
            (1, {USER_B}, 'sendMessage', '{{"chat_id": {USER_B}, "text": "dead"}}', 2,
             'notice:d', 'dead', NULL);
        INSERT INTO notifier.dead_letters
            (outbox_id, community_id, chat_id, method, params, error_code, description, attempts)
            SELECT id, 1, {USER_B}, 'sendMessage', params, 400, 'Bad Request', 1
            FROM notifier.outbox WHERE idempotency_key = 'notice:d';
        INSERT INTO notifier.unreachable_chats (community_id, chat_id, description)
            VALUES (1, {USER_B}, 'Forbidden: bot was blocked by the user');
        """,
    )
    for service in SEALING_BEFORE:
        await _migrate(infra_config, service, "head")

    # Nothing names anyone in clear any more.
    dump = await asyncio.to_thread(
        lambda: (
            subprocess.run(
                [
                    str(PG_BIN / "pg_dump"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(infra_config.pg_port),
                    "-U",
                    ADMIN_ROLE,
                    SCRATCH,
                ],
                capture_output=True,
                text=True,
                check=True,
                env={"PGPASSWORD": ADMIN_ROLE},
            ).stdout
        )
    )
    assert "CREATE TABLE confessions.members" in dump
    for secret in (str(USER_A), str(USER_B), TOKEN.split(":")[1]):
        assert secret not in dump, secret

    # The services' repositories work on the sealed rows.
    confessions_db = _schema_db(infra_config, "confessions")
    notifier_db = _schema_db(infra_config, "notifier")
    try:
        members = MembersRepository(confessions_db, SEAL)
        again, _ = await registration.register_member(
            confessions_db, SEAL, 1, USER_A, subject_token(KEY, 1, USER_A)
        )
        assert (again.id, again.created, again.ban) == (10, False, None)
        b, _ = await registration.register_member(confessions_db, SEAL, 1, USER_B, banned)
        assert b.id == 11 and b.ban is not None and b.ban.label == "confession #2"
        profile = await members.profile(1, USER_A)
        assert profile is not None
        assert (
            profile.confessions_sent,
            profile.confessions_approved,
            profile.comments_written,
            profile.reactions_received,
        ) == (3, 2, 5, 7)
        where = await notify_members.count_and_read(confessions_db, SEAL, None, [(1, 10), (1, 11)])
        assert (where[(1, 10)].telegram_user_id, where[(1, 11)].telegram_user_id) == (
            USER_A,
            USER_B,
        )
        community = await CommunitiesRepository(confessions_db, SEAL).get_community(1)
        assert community.bot_token == TOKEN

        notifier = NotifierRepository(notifier_db, SEAL.keys)
        claimed = await notifier.claim("migration-test", 10, 10, 30)
        assert [(m.chat_id, m.params["text"], m.unsure_after) for m in claimed] == [
            (USER_A, "queued", 41)
        ]
        # The notifier keeps no copy of who blocked the bot (0006): a new message to
        # that chat is queued, sealed (the confessions service is who skips it).
        ids, _ = await notifier.enqueue(
            [
                NewMessage(
                    1,
                    USER_B,
                    "sendMessage",
                    {"chat_id": USER_B, "text": "x"},
                    2,
                    "notice:new",
                    None,
                    None,
                )
            ]
        )
        assert (
            await _sql(infra_config, f"SELECT status FROM notifier.outbox WHERE id = {ids[0]}")
            == "queued"
        )
        # Finished rows keep no recipient; dead letters keep their call without it.
        assert (
            await _sql(
                infra_config,
                "SELECT idempotency_key, sealed IS NULL FROM notifier.outbox ORDER BY id",
            )
            == "notice:q|f\nnotice:s|t\nnotice:d|t\nnotice:new|f"
        )
        assert (
            await _sql(infra_config, "SELECT params::text FROM notifier.dead_letters")
            == '{"text": "dead"}'
        )
    finally:
        await confessions_db.dispose()
        await notifier_db.dispose()
    # Threads keep their pseudonyms (social is not sealed: it names members by id).
    assert await _sql(infra_config, "SELECT pseudonym FROM social.comments") == "Misty Heron 417"

    # Going back would unseal: refused, with the reason.
    for service in ("confessions", "notifier"):
        with pytest.raises(RuntimeError, match="refused"):
            await _migrate_down(infra_config, service, SEALING_BEFORE[service])


async def test_the_notifier_drops_its_copy_of_who_blocked_the_bot(
    infra_config: InfraConfig, scratch: Database
) -> None:
    """0006: ``unreachable_chats`` goes (the confessions service owns the fact); the
    rest of the schema keeps its rows; a downgrade brings the table back, empty."""
    await _migrate(infra_config, "notifier", "0005")
    await _sql(
        infra_config,
        """
        INSERT INTO notifier.unreachable_chats (community_id, chat_key, private_chat, description)
            VALUES (1, '\\x01', true, 'Forbidden: bot was blocked by the user'),
                   (1, '\\x02', false, 'Forbidden: bot was kicked from the group chat');
        INSERT INTO notifier.community_limits (community_id, per_second) VALUES (1, 5);
        """,
    )
    await _migrate(infra_config, "notifier", "head")
    exists = "SELECT to_regclass('notifier.unreachable_chats') IS NOT NULL"
    assert await _sql(infra_config, exists) == "f"
    limits = "SELECT community_id, per_second FROM notifier.community_limits"
    assert await _sql(infra_config, limits) == "1|5"

    await _migrate_down(infra_config, "notifier", "0005")
    assert await _sql(infra_config, exists) == "t"
    assert await _sql(infra_config, "SELECT count(*) FROM notifier.unreachable_chats") == "0"
    await _migrate(infra_config, "notifier", "head")
    assert await _sql(infra_config, exists) == "f"
    assert await _sql(infra_config, limits) == "1|5"


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
