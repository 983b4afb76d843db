"""Notifier 0007 on an outbox that holds messages: the index of weighty messages is
built over the rows already there, so an erasure's edit sent before the upgrade
still keeps a comment counter's edit that comes after it from undoing it."""

from __future__ import annotations

from services.notifier.recipients import chat_key
from services.notifier.repository import NotifierRepository
from services.notifier.repository.rows import NewMessage
from tests.services.test_migrations import (
    SEAL,
    _migrate,
    _migrate_down,
    _schema_db,
    _sql,
    scratch,
)
from tools.devstack.infra.config import InfraConfig
from veil.core.db import Database

__all__ = ["scratch"]

CHANNEL = -1_001_234_567
_INDEX = "SELECT count(*) FROM pg_indexes WHERE indexname = 'outbox_weighty_idx'"


def _counter_edit(key: str) -> NewMessage:
    return NewMessage(
        community_id=1,
        chat_id=CHANNEL,
        method="editMessageReplyMarkup",
        params={"message_id": 70, "reply_markup": {"inline_keyboard": []}},
        priority=3,
        idempotency_key=key,
        collapse_key="post:1:7",
        not_before=None,
    )


async def test_an_erasure_sent_before_the_upgrade_still_outranks_a_later_counter_edit(
    infra_config: InfraConfig, scratch: Database
) -> None:
    await _migrate(infra_config, "notifier", "0006")
    channel_key = chat_key(SEAL.keys, 1, CHANNEL).hex()
    # As 0006's code left them: a counter edit collapsed by the erasure's edit,
    # which was then sent (a finished row keeps no recipient).
    await _sql(
        infra_config,
        f"""
        INSERT INTO notifier.outbox
            (community_id, chat_key, method, sealed, priority, idempotency_key,
             collapse_key, status, sent_at)
        VALUES
            (1, '\\x{channel_key}', 'editMessageReplyMarkup', NULL, 3, 'counter:7:1',
             'post:1:7', 'collapsed', NULL),
            (1, '\\x{channel_key}', 'editMessageText', NULL, 2, 'erase:7',
             'post:1:7', 'sent', now());
        """,
    )
    await _migrate(infra_config, "notifier", "head")
    assert await _sql(infra_config, _INDEX) == "1"

    db = _schema_db(infra_config, "notifier")
    try:
        notifier = NotifierRepository(db, SEAL.keys)
        # One alone, two repeating the collapse key (one statement), and two
        # repeating an idempotency key too (the repeat is the first message).
        await notifier.enqueue([_counter_edit("counter:7:2")])
        await notifier.enqueue([_counter_edit("counter:7:3"), _counter_edit("counter:7:4")])
        await notifier.enqueue(
            [
                _counter_edit("counter:7:5"),
                _counter_edit("counter:7:6"),
                _counter_edit("counter:7:5"),
            ]
        )
    finally:
        await db.dispose()
    rows = await _sql(
        infra_config,
        "SELECT idempotency_key, status, sealed IS NULL FROM notifier.outbox ORDER BY id",
    )
    assert rows.splitlines() == [
        "counter:7:1|collapsed|t",
        "erase:7|sent|t",
        "counter:7:2|collapsed|t",
        "counter:7:3|collapsed|t",
        "counter:7:4|collapsed|t",
        "counter:7:5|collapsed|t",
        "counter:7:6|collapsed|t",
    ]

    await _migrate_down(infra_config, "notifier", "0006")
    assert await _sql(infra_config, _INDEX) == "0"
    assert await _sql(infra_config, "SELECT count(*) FROM notifier.outbox") == "7"
    await _migrate(infra_config, "notifier", "head")
    assert await _sql(infra_config, _INDEX) == "1"
