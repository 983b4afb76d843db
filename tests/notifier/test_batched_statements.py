"""The notifier's batched statements.

A batch of messages is queued in one statement, with one message's rules for
each (a comment's counter edit and its notices arrive as one batch): a repeated
key returns the first message's id, and a new message collapses the older queued one with its
collapse key, as when each is queued alone. A worker marks the messages
answered while a mark is being written in one statement (group commit).
Recipients stay sealed: a queued message's chat is keyed and its call sealed,
a collapsed or sent one keeps no recipient.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import delete

from services.notifier.models import outbox as outbox_table
from services.notifier.recipients import chat_key, open_call
from services.notifier.repository import NotifierRepository
from services.notifier.repository.rows import NewMessage
from services.notifier.worker.sent_marks import SentMarks
from tests.support.outbox import rows
from tests.support.statements import CountedDatabase
from tools.devstack.infra.config import SERVICE_ROLES, InfraConfig
from tools.devstack.stack import Stack
from veil.core.db import Database
from veil.core.sealing import Keyring
from veil.core.settings import DatabaseSettings


@pytest.fixture
async def counted(infra_config: InfraConfig) -> AsyncIterator[CountedDatabase]:
    """The notifier schema on the primary, its statements counted whichever way
    they go (the engine, or asyncpg for the hot ones such as Enqueue's)."""
    dsn = infra_config.pg_dsn(SERVICE_ROLES["notifier"])
    counted = CountedDatabase(DatabaseSettings(db_primary_dsn=dsn), "notifier")  # type: ignore[arg-type]
    yield counted
    await counted.db.dispose()


def _message(community_id: int, chat_id: int, key: str, **extra: Any) -> NewMessage:
    return NewMessage(
        community_id=community_id,
        chat_id=chat_id,
        method="sendMessage",
        params={"text": key},
        priority=extra.pop("priority", 2),
        idempotency_key=key,
        collapse_key=extra.pop("collapse_key", None),
        # Never due: no worker sends them (the community has no bot).
        not_before=datetime.now(UTC) + timedelta(days=1),
        **extra,
    )


async def test_a_batch_is_one_statement_with_each_message_s_rules(
    counted: CountedDatabase, stack: Stack, seal_keys: Keyring
) -> None:
    notifier_db = counted.db
    repository = NotifierRepository(notifier_db, seal_keys)
    run = secrets.token_hex(4)
    community = 9_400_000 + secrets.randbelow(100_000)
    chat, other_chat = 7_400_001, 7_400_002
    [older], _ = await repository.enqueue(
        [_message(community, chat, f"{run}:older", collapse_key=f"{run}:post")]
    )
    [first], _ = await repository.enqueue([_message(community, chat, f"{run}:first")])

    async with counted.counting() as statements:
        ids, accepted = await repository.enqueue(
            [
                _message(community, chat, f"{run}:edit", collapse_key=f"{run}:post"),
                _message(community, chat, f"{run}:first"),  # a retried one
                _message(community, other_chat, f"{run}:notice", trace_context={"a": "b"}),
            ]
        )
    try:
        assert len(statements) == 1
        assert accepted == 2 and ids[1] == first and len(set(ids)) == 3
        edit, _, notice = await rows(notifier_db, ids)
        assert (edit.status, edit.collapse_key, edit.chat_key) == (
            "queued",
            f"{run}:post",
            chat_key(seal_keys, community, chat),
        )
        assert open_call(seal_keys, edit.idempotency_key, edit.sealed) == (
            chat,
            {"text": f"{run}:edit"},
        )
        assert (notice.status, notice.trace_context) == ("queued", {"a": "b"})
        assert notice.chat_key == chat_key(seal_keys, community, other_chat)
        assert open_call(seal_keys, notice.idempotency_key, notice.sealed) == (
            other_chat,
            {"text": f"{run}:notice"},
        )
        [collapsed] = await rows(notifier_db, [older])
        assert (collapsed.status, collapsed.reason, collapsed.sealed) == (
            "collapsed",
            f"collapsed by {edit.id}",
            None,
        )
        # Enqueue order is id order (a chat's messages leave in it).
        assert ids[0] < ids[2]
    finally:
        await _forget(notifier_db, community)


# Priorities of a batch of messages with one collapse key, in order (1 is the
# weightiest): background counter edits, an erasure's edit among them, a
# take-down's deletion after lesser ones.
_PATTERNS = [[3, 3, 3], [3, 2, 3, 3], [2, 3, 1, 3, 2], [3, 1, 2, 2]]


@pytest.mark.parametrize("priorities", _PATTERNS, ids=str)
async def test_a_batch_repeating_a_collapse_key_is_one_statement_ending_as_one_by_one(
    counted: CountedDatabase, stack: Stack, seal_keys: Keyring, priorities: list[int]
) -> None:
    """The relay's follow-ups of several comments on one thread repeat the
    thread's collapse key: in one statement, each message ends as it would
    queued alone, one after another (which the suite's other tests pin down)."""
    repository = NotifierRepository(counted.db, seal_keys)
    run = secrets.token_hex(4)
    batched, alone = (9_600_000 + secrets.randbelow(100_000) + n * 100_000 for n in range(2))
    chat = 7_600_001

    def batch(community: int) -> list[NewMessage]:
        return [
            _message(community, chat, f"{run}:{community}:{n}", collapse_key=f"{run}:post")
            for n in range(len(priorities))
        ]

    def with_priorities(messages: list[NewMessage]) -> list[NewMessage]:
        return [replace(m, priority=p) for m, p in zip(messages, priorities, strict=True)]

    try:
        # Each community already holds a queued counter edit of the post.
        stored = {
            community: (
                await repository.enqueue(
                    [
                        _message(
                            community,
                            chat,
                            f"{run}:{community}:stored",
                            collapse_key=f"{run}:post",
                            priority=3,
                        )
                    ]
                )
            )[0][0]
            for community in (batched, alone)
        }
        async with counted.counting() as statements:
            batched_ids, accepted = await repository.enqueue(with_priorities(batch(batched)))
        assert len(statements) == 1 and accepted == len(priorities)
        alone_ids = [
            (await repository.enqueue([message]))[0][0] for message in with_priorities(batch(alone))
        ]
        found = {
            community: [r.status for r in await rows(counted.db, [stored[community], *ids])]
            for community, ids in ((batched, batched_ids), (alone, alone_ids))
        }
        assert found[batched] == found[alone]
        # One message of the batch stands: the last of the weightiest.
        weightiest = len(priorities) - 1 - priorities[::-1].index(min(priorities))
        assert found[batched][1:].count("queued") == 1
        assert found[batched][1 + weightiest] == "queued"
        assert found[batched][0] == "collapsed"  # the stored one, by the standing one
    finally:
        for community in (batched, alone):
            await _forget(counted.db, community)


async def test_marks_answered_while_one_is_written_share_one_statement(
    counted: CountedDatabase, stack: Stack, seal_keys: Keyring
) -> None:
    notifier_db = counted.db
    repository = NotifierRepository(notifier_db, seal_keys)
    run = secrets.token_hex(4)
    community = 9_500_000 + secrets.randbelow(100_000)
    ids, _ = await repository.enqueue(
        [_message(community, 7_500_000 + n, f"{run}:{n}") for n in range(6)]
    )
    marks = SentMarks(repository)
    try:
        async with counted.counting() as statements:
            # Answered in one tick: all arrive before the writer starts, so they
            # leave together (later ones would wait for the statement in flight).
            await asyncio.gather(*(marks.mark(i, 1000 + n) for n, i in enumerate(ids[:5])))
        assert len(statements) == 1  # five marks
        async with counted.counting() as statements:
            await marks.mark(ids[5], None)  # alone: at once, one statement
        assert len(statements) == 1
        found = await rows(notifier_db, ids)
        assert [(r.status, r.sent_message_id) for r in found] == [
            *(("sent", 1000 + n) for n in range(5)),
            ("sent", None),
        ]
        assert all(r.sent_at is not None and r.lease_until is None for r in found)
        # Sent: no recipient kept.
        assert all(r.sealed is None for r in found)
    finally:
        await _forget(notifier_db, community)


async def _forget(db: Database, community: int) -> None:
    async with db.write() as conn:
        await conn.execute(delete(outbox_table).where(outbox_table.c.community_id == community))
