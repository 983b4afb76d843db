"""A batch of messages is queued in one statement, with one message's rules for each.

(A comment's counter edit and its notices arrive as one batch.) In the batch: a
message to a chat that blocked the bot is stored as dropped, a repeated key
returns the first message's id, and a new message collapses the older queued
one with its collapse key, as when each is queued alone.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, event

from services.notifier.models import outbox as outbox_table
from services.notifier.models import unreachable_chats
from services.notifier.repository import NewMessage, NotifierRepository
from tests.notifier.conftest import rows
from veil.core.db import Database


def _message(community_id: int, chat_id: int, key: str, **extra: Any) -> NewMessage:
    return NewMessage(
        community_id=community_id,
        chat_id=chat_id,
        method="sendMessage",
        params={"text": key},
        priority=2,
        idempotency_key=key,
        collapse_key=extra.pop("collapse_key", None),
        # Never due: no worker sends them (the community has no bot).
        not_before=datetime.now(UTC) + timedelta(days=1),
        **extra,
    )


async def test_a_batch_is_one_statement_with_each_message_s_rules(notifier_db: Database) -> None:
    repository = NotifierRepository(notifier_db)
    run = secrets.token_hex(4)
    community = 9_400_000 + secrets.randbelow(100_000)
    chat, blocked_chat = 7_400_001, 7_400_002
    await repository.mark_blocked(community, blocked_chat, 0, "Forbidden: bot was blocked")
    [older], _ = await repository.enqueue(
        [_message(community, chat, f"{run}:older", collapse_key=f"{run}:post")]
    )
    [first], _ = await repository.enqueue([_message(community, chat, f"{run}:first")])

    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = notifier_db.primary.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        ids, accepted = await repository.enqueue(
            [
                _message(community, chat, f"{run}:edit", collapse_key=f"{run}:post"),
                _message(community, chat, f"{run}:first"),  # a retried one
                _message(community, blocked_chat, f"{run}:notice", trace_context={"a": "b"}),
            ]
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    try:
        assert len(statements) == 1
        assert accepted == 2 and ids[1] == first and len(set(ids)) == 3
        edit, _, notice = await rows(notifier_db, ids)
        assert (edit.status, edit.collapse_key, edit.params) == (
            "queued",
            f"{run}:post",
            {"text": f"{run}:edit"},
        )
        assert (notice.status, notice.reason, notice.trace_context) == (
            "dropped",
            "blocked",
            {"a": "b"},
        )
        [collapsed] = await rows(notifier_db, [older])
        assert (collapsed.status, collapsed.reason) == ("collapsed", f"collapsed by {edit.id}")
        # Enqueue order is id order (a chat's messages leave in it).
        assert ids[0] < ids[2]
    finally:
        async with notifier_db.write() as conn:
            await conn.execute(delete(outbox_table).where(outbox_table.c.community_id == community))
            await conn.execute(
                delete(unreachable_chats).where(unreachable_chats.c.community_id == community)
            )
