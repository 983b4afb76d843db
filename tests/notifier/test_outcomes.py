"""What becomes of a message on each of Telegram's answers, with flood control on.

429 with ``retry_after`` (the bot and chat pause, then it is sent), 403 (the
member blocked the bot: pending messages dropped with a reason, the confessions
service told, nothing retried), 400 (a dead letter with Telegram's description), 502 flapping
(retried with backoff until delivered, or dead-lettered at the attempt limit).
Also: an idempotency key makes a repeated enqueue one message, a collapse key
lets a newer edit replace an unsent older one.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from services.notifier.models import dead_letters
from tests.support.outbox import bot_calls, settled, text_call, wait_for
from tests.support.threads import until
from tests.support.world import World
from tools.devstack.infra.config import InfraConfig
from tools.devstack.infra.postgres_sql import psql
from veil.core.db import Database
from veil.core.outbox import Outbox, OutgoingCall, Priority

MAX_ATTEMPTS = 4  # VEIL_NOTIFIER_MAX_ATTEMPTS of the test stack


async def _chat_calls(world: World, community: World.Community, chat_id: int) -> list[Any]:
    return [
        c
        for c in await bot_calls(world, community.bot_id)
        if str(c["params"].get("chat_id")) == str(chat_id)
    ]


async def test_429_pauses_for_retry_after_then_sends(
    world: World,
    community: World.Community,
    outbox: Outbox,
    notifier_db: Database,
    flood: Callable[..., Awaitable[None]],
) -> None:
    member = community.member()
    await member.start()
    await flood()
    await world.control(
        "POST",
        "/fail",
        {"method": "sendMessage", "error_code": 429, "retry_after": 2, "chat_id": member.user_id},
    )
    run = secrets.token_hex(4)
    ids = await outbox.send(
        [text_call(community, member.user_id, f"r{i}", f"429:{run}:{i}") for i in range(2)]
    )
    found = await settled(notifier_db, ids)
    assert [r.status for r in found] == ["sent", "sent"]
    assert found[0].attempts == 1  # a 429 is not a failed attempt
    calls = [
        c
        for c in await _chat_calls(world, community, member.user_id)
        if c["method"] == "sendMessage"
    ]
    assert [(c["params"]["text"], c["ok"]) for c in calls[-3:]] == [
        ("r0", False),
        ("r0", True),
        ("r1", True),
    ]
    assert calls[-3]["error_code"] == 429
    # Nothing left for that chat before retry_after was over.
    assert calls[-2]["time"] - calls[-3]["time"] >= 2.0


async def test_403_drops_the_chats_messages_and_tells_the_confessions_service(
    world: World,
    community: World.Community,
    outbox: Outbox,
    notifier_db: Database,
    infra_config: InfraConfig,
    flood: Callable[..., Awaitable[None]],
) -> None:
    member = community.member()
    await member.start()
    await world.control("POST", f"/bots/{community.bot_id}/users/{member.user_id}/block")
    await flood()
    run = secrets.token_hex(4)
    ids = await outbox.send(
        [text_call(community, member.user_id, f"b{i}", f"403:{run}:{i}") for i in range(3)]
    )
    found = await settled(notifier_db, ids)
    assert [(r.status, r.reason) for r in found] == [("dropped", "blocked")] * 3
    assert found[0].last_error == "Forbidden: bot was blocked by the user"

    async def marked() -> bool:
        count = await asyncio.to_thread(
            psql,
            infra_config,
            "SELECT count(*) FROM confessions.members "
            f"WHERE community_id = {community.id} AND unreachable_since IS NOT NULL",
        )
        return count == "1"

    # The confessions service owns the fact (it skips the member's notices from now on).
    await until(marked, "the confessions service was never told of the 403")
    # The notifier keeps no copy: a call queued to the chat anyway is tried once and
    # dropped on its own 403; nothing is ever retried.
    later = await outbox.send([text_call(community, member.user_id, "b3", f"403:{run}:3")])
    assert [(r.status, r.reason) for r in await settled(notifier_db, later)] == [
        ("dropped", "blocked")
    ]
    calls = await _chat_calls(world, community, member.user_id)
    sends = [
        (c["params"].get("text"), c["ok"])
        for c in calls
        if c["method"] == "sendMessage" and str(c["params"].get("text", "")).startswith("b")
    ]
    assert sends == [("b0", False), ("b3", False)]


async def test_400_goes_to_the_dead_letters_with_telegrams_description(
    world: World,
    community: World.Community,
    outbox: Outbox,
    notifier_db: Database,
    flood: Callable[..., Awaitable[None]],
) -> None:
    await flood()
    run = secrets.token_hex(4)
    [message_id] = await outbox.send(
        [
            OutgoingCall(
                community_id=community.id,
                method="sendMessage",
                chat_id=community.channel_id,
                params={"text": "<b>unclosed", "parse_mode": "HTML"},
                idempotency_key=f"400:{run}",
            )
        ]
    )
    [row] = await settled(notifier_db, [message_id])
    assert (row.status, row.attempts) == ("dead", 1)
    async with notifier_db.read_own() as conn:
        letter = (
            await conn.execute(select(dead_letters).where(dead_letters.c.outbox_id == message_id))
        ).one()
    assert letter.error_code == 400
    assert letter.description.startswith("Bad Request: can't parse entities")
    assert letter.method == "sendMessage" and letter.attempts == 1
    calls = await _chat_calls(world, community, community.channel_id)
    assert [c["params"]["text"] for c in calls if c["method"] == "sendMessage"] == ["<b>unclosed"]


async def _after_502s(
    world: World, community: World.Community, outbox: Outbox, db: Database, failures: int
) -> tuple[Any, list[dict[str, Any]]]:
    """Send one message to the channel while the next ``failures`` calls answer 502."""
    chat = community.channel_id
    await world.control(
        "POST",
        "/fail",
        {"method": "sendMessage", "error_code": 502, "count": failures, "chat_id": chat},
    )
    ids = await outbox.send([text_call(community, chat, "flap", f"502:{secrets.token_hex(4)}")])
    [row] = await settled(db, ids)
    calls = [c for c in await _chat_calls(world, community, chat) if c["method"] == "sendMessage"]
    return row, calls


async def test_502_flapping_is_retried_with_backoff_then_delivered(
    world: World,
    community: World.Community,
    outbox: Outbox,
    notifier_db: Database,
    flood: Callable[..., Awaitable[None]],
) -> None:
    await flood()
    row, calls = await _after_502s(world, community, outbox, notifier_db, failures=2)
    assert (row.status, row.attempts) == ("sent", 3)
    assert [(c["ok"], c.get("error_code")) for c in calls] == [
        (False, 502),
        (False, 502),
        (True, None),
    ]
    # Backed off: each retry waited (full jitter of 0.2 s x 2^n, at least half the base).
    assert all(b["time"] - a["time"] >= 0.1 for a, b in itertools.pairwise(calls))


async def test_502_until_the_attempt_limit_goes_to_the_dead_letters(
    world: World,
    community: World.Community,
    outbox: Outbox,
    notifier_db: Database,
    flood: Callable[..., Awaitable[None]],
) -> None:
    await flood()
    row, calls = await _after_502s(world, community, outbox, notifier_db, failures=MAX_ATTEMPTS)
    assert (row.status, row.attempts, row.last_error) == ("dead", MAX_ATTEMPTS, "Bad Gateway")
    assert [c.get("error_code") for c in calls] == [502] * MAX_ATTEMPTS


async def test_the_same_idempotency_key_twice_is_one_message(
    world: World,
    community: World.Community,
    outbox: Outbox,
    notifier_db: Database,
) -> None:
    member = community.member()
    await member.start()
    key = f"once:{secrets.token_hex(4)}"
    call = text_call(community, member.user_id, "only once", key)
    first = await outbox.send([call, call])  # twice in one request
    again = await outbox.send([call])  # and once more later (a retried request)
    assert first == [first[0], first[0]] and again == first[:1]
    await settled(notifier_db, again)
    messages = await member.bot_messages()
    assert [m["text"] for m in messages].count("only once") == 1


async def test_a_newer_edit_with_the_same_collapse_key_replaces_an_unsent_older_one(
    world: World,
    community: World.Community,
    outbox: Outbox,
    notifier_db: Database,
    flood: Callable[..., Awaitable[None]],
) -> None:
    await flood()
    run = secrets.token_hex(4)
    chat = community.channel_id
    message = await _channel_post(world, community, outbox, notifier_db, "💬 Comments (0)", run)
    later = datetime.now(UTC) + timedelta(seconds=30)

    def edit(n: int, not_before: datetime | None) -> OutgoingCall:
        return _edit(
            community,
            message,
            f"edit:{run}:{n}",
            f"💬 Comments ({n})",
            Priority.BACKGROUND,
            f"counter:{run}",
            not_before,
        )

    # Two edits wait for a later moment; the third, due now, replaces both.
    ids = [
        *await outbox.send([edit(1, later)]),
        *await outbox.send([edit(2, later)]),
        *await outbox.send([edit(3, None)]),
    ]
    found = await settled(notifier_db, ids)
    assert [r.status for r in found] == ["collapsed", "collapsed", "sent"]
    assert (
        found[0].reason == f"collapsed by {ids[1]}" and found[1].reason == f"collapsed by {ids[2]}"
    )
    edits = await bot_calls(world, community.bot_id, "editMessageText")
    assert [c["params"]["text"] for c in edits] == ["💬 Comments (3)"]
    shown = await wait_for(
        lambda: world.chat_messages(community.bot_id, chat),
        lambda ms: any(m["message_id"] == message["message_id"] for m in ms),
    )
    assert [m["text"] for m in shown if m["message_id"] == message["message_id"]] == [
        "💬 Comments (3)"
    ]


async def test_a_lesser_edit_never_undoes_a_weightier_one_with_its_collapse_key(
    world: World,
    community: World.Community,
    outbox: Outbox,
    notifier_db: Database,
    flood: Callable[..., Awaitable[None]],
) -> None:
    """An erasure's "[deleted]" edit of a channel post is neither collapsed nor
    undone by a comment counter's edit of the same post that arrives after it (a
    comment's follow-up, relayed a moment later), before or after it was sent:
    the counter's is dropped, whichever path queues it."""
    await flood()
    run = secrets.token_hex(4)
    chat = community.channel_id
    message = await _channel_post(world, community, outbox, notifier_db, "#7 my secret", run)
    soon = datetime.now(UTC) + timedelta(seconds=2)

    def edit(key: str, text: str, priority: Priority, not_before: datetime | None) -> OutgoingCall:
        return _edit(community, message, f"{key}:{run}", text, priority, f"post:{run}", not_before)

    waiting = await outbox.send([edit("counter-1", "#7 my secret (1)", Priority.BACKGROUND, soon)])
    # The weightier edit collapses the lesser one queued before it, as any newer edit does.
    erased = await outbox.send([edit("erase", "#7\n[deleted]", Priority.NOTIFICATION, soon)])
    # Lesser edits after it, due at once: one alone, then two repeating the
    # collapse key (one statement, the first superseded by the second).
    late = await outbox.send([edit("counter-2", "#7 my secret (2)", Priority.BACKGROUND, None)])
    later = await outbox.send(
        [
            edit("counter-3", "#7 my secret (3)", Priority.BACKGROUND, None),
            edit("counter-4", "#7 my secret (4)", Priority.BACKGROUND, None),
        ]
    )
    found = await settled(notifier_db, [*waiting, *erased, *late, *later])
    assert [r.status for r in found] == ["collapsed", "sent", "collapsed", "collapsed", "collapsed"]
    # Once the weightier edit was sent, a lesser one would undo it (a counter's
    # edit would put the "💬 Comments" button back under "[deleted]"): dropped too.
    # One alone, then a batch repeating an idempotency key (the repeat is the first).
    after = await outbox.send([edit("counter-5", "#7 my secret (5)", Priority.BACKGROUND, None)])
    after_two = await outbox.send(
        [
            edit("counter-6", "#7 my secret (6)", Priority.BACKGROUND, None),
            edit("counter-7", "#7 my secret (7)", Priority.BACKGROUND, None),
            edit("counter-6", "#7 my secret (6)", Priority.BACKGROUND, None),
        ]
    )
    assert after_two[0] == after_two[2]
    found = await settled(notifier_db, [*after, *after_two[:2]])
    assert [r.status for r in found] == ["collapsed", "collapsed", "collapsed"]
    edits = await bot_calls(world, community.bot_id, "editMessageText")
    assert [c["params"]["text"] for c in edits] == ["#7\n[deleted]"]
    shown = await world.chat_messages(community.bot_id, chat)
    assert [m["text"] for m in shown if m["message_id"] == message["message_id"]] == [
        "#7\n[deleted]"
    ]


async def _channel_post(
    world: World,
    community: World.Community,
    outbox: Outbox,
    notifier_db: Database,
    text: str,
    run: str,
) -> dict[str, Any]:
    """``text`` posted in the community's channel through the outbox, as the channel shows it."""
    chat = community.channel_id
    [post] = await outbox.send([text_call(community, chat, text, f"post:{run}")])
    await settled(notifier_db, [post])
    [message] = [
        m for m in await world.chat_messages(community.bot_id, chat) if m.get("text") == text
    ]
    return message


def _edit(
    community: World.Community,
    message: dict[str, Any],
    key: str,
    text: str,
    priority: Priority,
    collapse_key: str,
    not_before: datetime | None,
) -> OutgoingCall:
    """An edit of a channel ``message`` to ``text``."""
    return OutgoingCall(
        community_id=community.id,
        method="editMessageText",
        chat_id=community.channel_id,
        params={"message_id": message["message_id"], "text": text},
        idempotency_key=key,
        priority=priority,
        collapse_key=collapse_key,
        not_before=not_before,
    )
