"""Telegram's answer is recorded even when Redis fails between the answer and the marker.

After a send is answered, the worker tells the flood limiter (Redis) when the
answer came, then commits the sent-marker (Postgres). In the second full
``make chaos`` run a card was answered during the Redis master failover: the
limiter's call raised, the answer was never recorded, the row was claimed
again and, its admin having already approved the first card, sent twice.

Here the emulator holds the card's answer while Redis is made to refuse the
limiter's scripts (an ACL change on every node, undone afterwards): the card is
recorded on its first and only attempt, with its message id, and never probed
for or sent again.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from redis.asyncio import Redis

from tests.notifier.test_unsure_sends import _card_row, _cards
from tests.support.moderation import confess, number_of
from tests.support.outbox import bot_calls, wait_for
from tests.support.world import World
from tools.devstack.infra.config import InfraConfig
from tools.devstack.ports import free_port
from tools.devstack.stack import Stack
from veil.core.db import Database
from veil.core.sealing import Keyring

# How long the emulator holds the card's answer: time enough to change Redis.
HOLD_SECONDS = 12


@pytest.fixture
def patient_worker(stack: Stack) -> Iterator[str]:
    """The only worker for this test, with a request timeout longer than the hold."""
    stack.stop_process("notifier-worker")
    instance = f"notifier-worker-{secrets.token_hex(3)}"
    port = free_port()
    stack.spawn(
        "notifier-worker",
        instance=instance,
        env={
            "VEIL_METRICS_PORT": str(port),
            "VEIL_NOTIFIER_REQUEST_TIMEOUT_SECONDS": "30",
            "VEIL_NOTIFIER_LEASE_SECONDS": "90",
        },
    )
    stack.extra_workers.append(instance)
    stack.wait_http(instance, f"http://127.0.0.1:{port}/healthz")
    yield instance
    stack.stop_process(instance)
    stack.start_workers()


async def _scripts(cfg: InfraConfig, rule: str) -> None:
    """Allow (``+``) or refuse (``-``) Lua scripts to every client of every node."""
    for port in cfg.redis_ports:
        node = Redis(host="127.0.0.1", port=port)
        try:
            await node.acl_setuser(
                "default", enabled=True, commands=[f"{rule}evalsha", f"{rule}eval"]
            )
        finally:
            await node.aclose()


async def test_an_answer_is_recorded_when_redis_fails_before_the_marker(
    world: World,
    patient_worker: str,
    notifier_db: Database,
    seal_keys: Keyring,
    infra_config: InfraConfig,
) -> None:
    community = await world.create_community("Answer outlives Redis")
    member = community.member()
    await member.start()
    await world.control(
        "POST",
        "/fail",
        {
            "method": "sendMessage",
            "chat_id": community.admin_chat_id,
            "delay": True,
            "hold_seconds": HOLD_SECONDS,
            "count": 1,
        },
    )
    number = number_of(await confess(member, f"while Redis fails {secrets.token_hex(3)}"))
    # The card is in the chat; its answer is on hold.
    await wait_for(lambda: _cards(world, community, number), bool, within=30, interval=0.05)
    await _scripts(infra_config, "-")
    try:
        row = await wait_for(
            lambda: _card_row(notifier_db, seal_keys, community),
            lambda r: r.status == "sent",
            within=HOLD_SECONDS + 20,
        )
    finally:
        await _scripts(infra_config, "+")
    cards = await _cards(world, community, number)
    assert len(cards) == 1, cards
    assert (row.attempts, row.sent_message_id) == (1, cards[0]["message_id"])
    calls = [
        c
        for c in await bot_calls(world, community.bot_id)
        if str(c["params"].get("chat_id")) == str(community.admin_chat_id)
    ]
    held = [c for c in calls if c.get("answer_delayed")]
    assert len(held) == 1 and held[0]["ok"], held  # answered, late, while Redis refused
    assert not [c for c in calls if c["method"] == "editMessageReplyMarkup"]
