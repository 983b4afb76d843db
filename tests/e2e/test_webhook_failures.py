"""Rows of the brief's failure table that the gateway's webhook owns."""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

import aiohttp
import orjson

from services.confessions.sealed import MemberSeal
from services.gateway.views import texts as gateway_texts
from tests.support.outbox import wait_for
from tests.support.webhook import community_secret, message_update, post_update
from tests.support.world import World, buttons, new_user_id
from tools.devstack.infra.config import InfraConfig
from tools.devstack.infra.postgres_sql import psql
from veil.core.sealing import Keyring

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _rows(cfg: InfraConfig, table: str, community_id: int) -> int:
    """Rows of a community in ``confessions.<table>``, counted on the primary."""
    return int(
        psql(cfg, f"SELECT count(*) FROM confessions.{table} WHERE community_id = {community_id}")
    )


async def test_duplicate_update_processed_once(
    world: World, community: World.Community, infra_config: InfraConfig
) -> None:
    member = community.member()
    preview_result = await member.send("✍️ New confession")
    await member.send("duplicate me")
    preview = await member.last()
    pressed = await member.press(preview["message_id"], buttons(preview)["✅ Send"])
    before = len(await member.bot_messages())
    for update_id in (preview_result["update_id"], pressed["update_id"]):
        again = await world.control(
            "POST", f"/bots/{community.bot_id}/redeliver", {"update_id": update_id}
        )
        assert again["status"] == 200
    assert len(await member.bot_messages()) == before
    assert _rows(infra_config, "confessions", community.id) == 1


async def test_wrong_or_missing_secret_is_rejected(
    world: World, community: World.Community, infra_config: InfraConfig
) -> None:
    body = orjson.dumps(message_update(1, 7_000_000_001, "/start"))
    assert (await post_update(world, community.id, body, "wrong-secret"))[0] == 401
    assert (await post_update(world, community.id, body, None))[0] == 401
    # The right secret of another community is wrong here too.
    other = await world.create_community()
    assert (await post_update(world, community.id, body, community_secret(world, other)))[0] == 401
    assert _rows(infra_config, "members", community.id) == 0
    assert (await post_update(world, community.id, body, community_secret(world, community)))[
        0
    ] == 200
    assert _rows(infra_config, "members", community.id) == 1


async def test_bad_bodies_get_200_and_store_nothing(
    world: World, community: World.Community, infra_config: InfraConfig
) -> None:
    secret = community_secret(world, community)
    cases = {
        "malformed json": b"{not json",
        "not an object": b"[1, 2, 3]",
        "no update_id": b'{"message": {}}',
        "invalid message": orjson.dumps({"update_id": 5, "message": {"text": 12}}),
        "unknown update type": orjson.dumps({"update_id": 6, "future_thing": {"x": 1}}),
        "oversized": orjson.dumps(message_update(7, 7_000_000_002, "/start " + "x" * 400_000)),
        "hostile nesting": b"[" * 100_000 + b"]" * 100_000,
    }
    for reason, body in cases.items():
        status, _ = await post_update(world, community.id, body, secret)
        assert status == 200, reason
    assert _rows(infra_config, "members", community.id) == 0
    log = world.stack.log_path("gateway").read_text()
    for reason in (
        '"malformed json"',
        '"not an update object"',
        '"unknown update type"',
        '"oversized"',
        '"invalid update: ',
    ):
        assert f'"reason": {reason}' in log, reason
    # Still alive and serving.
    async with world.http.get(f"{world.stack.gateway_url}/healthz") as response:
        assert response.status == 200
    member = community.member()
    await member.start()
    assert "Welcome" in (await member.last())["text"]


async def test_unknown_bot_gets_404(world: World) -> None:
    body = orjson.dumps(message_update(1, 7_000_000_003, "/start"))
    assert (await post_update(world, 999_999_999, body, "x"))[0] == 404
    assert (await post_update(world, "not-a-number", body, "x"))[0] == 404


async def test_flooding_member_is_limited_politely_others_unaffected(
    world: World, community: World.Community
) -> None:
    flooder = community.member(first_name="Flood")
    bystander = community.member(first_name="Calm")
    # Burst is 10 in the test stack; 16 updates in a row exceed it.
    for _ in range(16):
        await flooder.send("/help")
    texts = [m["text"] for m in await flooder.bot_messages()]
    notices = [t for t in texts if "going a bit fast" in t]
    assert len(notices) == 1, texts
    assert texts.count(texts[0]) <= 10
    await bystander.send("/help")
    assert "How it works" in (await bystander.last())["text"]


async def test_concurrent_delivery_of_one_update_processes_once(
    world: World, community: World.Community, infra_config: InfraConfig
) -> None:
    """Two deliveries of the same update racing each other: one is handled."""
    user_id = 7_000_000_050 + community.bot_id % 1000
    world.user_ids.append(user_id)
    await world.control(
        "POST", f"/bots/{community.bot_id}/users/{user_id}/messages", {"text": "hi"}
    )
    secret = community_secret(world, community)
    body = orjson.dumps(message_update(10_000, user_id, "/start"))
    statuses = await asyncio.gather(
        *[post_update(world, community.id, body, secret) for _ in range(8)]
    )
    codes = sorted(code for code, _ in statuses)
    # One 200 that handled it; the others are duplicates (200) or in flight (503,
    # which Telegram would redeliver and then find it done).
    assert all(code in (200, 503) for code in codes), codes
    # The welcome rides in the handled delivery's 200 (posted by the test, so
    # nobody executes it): exactly one answer carries it, and the bot sent
    # nothing of its own.
    welcomes = [
        answer
        for code, body in statuses
        if code == 200 and body and "Welcome" in (answer := orjson.loads(body)).get("text", "")
    ]
    assert len(welcomes) == 1
    assert not [
        m
        for m in await world.chat_messages(community.bot_id, user_id)
        if m.get("from_bot") and "Welcome" in (m.get("text") or "")
    ]
    assert _rows(infra_config, "members", community.id) == 1


async def test_service_down_gets_try_again(world: World, community: World.Community) -> None:
    """A killed service: the member is told to try again, and it works after restart."""
    member = community.member()
    await member.start()
    world.stack.stop_process("confessions")
    try:
        result = await member.send("/my")
        assert result["status"] == 200
        assert "try again" in (await member.last())["text"]
    finally:
        world.stack.spawn("confessions")
        await asyncio.to_thread(world.stack.wait_grpc, "confessions")
    # The gateway reconnects within its reconnect backoff (at most 2 s); the
    # member, told to try again, does.
    deadline = time.monotonic() + 10
    while True:
        await member.send("/my")
        answer = (await member.last())["text"]
        if "try again" not in answer or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    assert "not sent any confession" in answer


async def test_send_while_the_notifier_is_down_is_received_and_carded_once_it_is_back(
    world: World, community: World.Community, infra_config: InfraConfig
) -> None:
    """The notifier out of reach when a confession is sent (killed, restarting).

    The confessions service stores the confession and writes its card to its
    own relay table (veil/core/relay.py), so the member is told it was
    received at once. The relay keeps the card while the notifier is away and
    sends it once it is back: exactly one card. (Before the relay, the Send
    failed UNAVAILABLE and waited for Telegram's redelivery.)
    """
    member = community.member()
    await member.send("✍️ New confession")
    await member.send("sent while the notifier is away")
    preview = await member.last()
    world.stack.stop_process("notifier", signal.SIGKILL)
    try:
        pressed = await member.press(preview["message_id"], buttons(preview)["✅ Send"])
        assert pressed["status"] == 200, pressed
        received = next(
            m for m in await member.bot_messages() if m["message_id"] == preview["message_id"]
        )
        number = int(received["text"].split("#")[1].split()[0])
        assert received["text"] == f"Received — confession #{number} is waiting for review."
        # The card waits in the relay (its first sends fail meanwhile).
        waiting = await asyncio.to_thread(
            psql,
            infra_config,
            "SELECT count(*) FROM confessions.relay WHERE idempotency_key LIKE 'card:%'",
        )
        assert int(waiting) >= 1
    finally:
        world.stack.spawn("notifier")
        await asyncio.to_thread(world.stack.wait_grpc, "notifier")

    async def cards() -> list[dict[str, Any]]:
        return [
            m
            for m in await world.chat_messages(community.bot_id, community.admin_chat_id)
            if m["from_bot"] and str(m.get("text") or "").startswith(f"🆕 #{number}\n")
        ]

    assert len(await wait_for(cards, bool, within=30)) == 1


async def test_gateway_readiness(world: World, http: aiohttp.ClientSession) -> None:
    async with http.get(f"{world.stack.gateway_url}/readyz") as response:
        assert response.status == 200


async def test_failed_bot_api_call_is_redelivered_and_completed_once(
    world: World, community: World.Community, infra_config: InfraConfig
) -> None:
    """Telegram failing the bot's reply (502): the update is redelivered and finished.

    The submission is not repeated (same idempotency key), the callback query
    is not answered twice, and the member sees "Received" exactly once.
    """
    member = community.member()
    await member.send("✍️ New confession")
    await member.send("sent while Telegram hiccups")
    preview = await member.last()
    # The press's answer is a call of its own (the edit after it rides in the 200).
    await world.control(
        "POST",
        "/fail",
        {
            "method": "answerCallbackQuery",
            "error_code": 502,
            "count": 1,
            "bot_id": community.bot_id,
        },
    )
    pressed = await member.press(preview["message_id"], buttons(preview)["✅ Send"])
    assert (pressed["status"], pressed["attempts"]) == (200, 2)
    received = next(
        m for m in await member.bot_messages() if m["message_id"] == preview["message_id"]
    )
    assert received["text"] == "Received — confession #1 is waiting for review."
    calls = await world.control("GET", f"/bots/{community.bot_id}/calls?method=answerCallbackQuery")
    answered = [
        c
        for c in calls["calls"]
        if c["params"]["callback_query_id"] == pressed["callback_query_id"]
    ]
    # Answered once: Telegram refused the first attempt's answer (the update
    # failed and was redelivered), the redelivery's went through.
    assert [c["ok"] for c in answered] == [False, True]
    assert _rows(infra_config, "confessions", community.id) == 1


async def test_bot_api_call_lost_on_the_network_is_redelivered(
    world: World, community: World.Community
) -> None:
    """The connection to Telegram drops mid-call: no reply is silently lost."""
    member = community.member()
    await member.send("✍️ New confession")
    await member.send("a draft to cancel")
    preview = await member.last()
    # The press's answer goes out on its own before the edit that rides in the 200.
    await world.control(
        "POST",
        "/fail",
        {
            "method": "answerCallbackQuery",
            "disconnect": True,
            "count": 1,
            "bot_id": community.bot_id,
        },
    )
    result = await member.press(preview["message_id"], buttons(preview)["✖️ Cancel"])
    assert (result["status"], result["attempts"]) == (200, 2)
    cancelled = [m for m in await member.bot_messages() if m["text"] == gateway_texts.CANCELLED]
    assert len(cancelled) == 1 and cancelled[0]["message_id"] == preview["message_id"]
    log = world.stack.log_path("gateway").read_text()
    assert '"error_type": "TelegramNetworkError"' in log


async def test_a_community_with_a_malformed_token_does_not_stop_the_others(
    world: World, infra_config: InfraConfig, seal_keys: Keyring
) -> None:
    broken_bot = 6_999_000_000 + new_user_id() % 1_000_000
    # Tokens are stored sealed (services/confessions/sealed.py).
    token = MemberSeal(seal_keys).seal_token(broken_bot, "not a token").hex()
    await asyncio.to_thread(
        psql,
        infra_config,
        "INSERT INTO confessions.communities "
        "(bot_id, sealed_token, bot_username, channel_chat_id, admin_chat_id, title) VALUES "
        f"({broken_bot}, '\\x{token}', 'broken_bot', -1, -2, 'Broken')",
    )
    try:
        # Gateways refresh their communities with the broken one among them:
        # a community added after it is still served.
        community = await world.create_community()
        member = community.member()
        await member.start()
        assert "Welcome" in (await member.last())["text"]
    finally:
        await asyncio.to_thread(
            psql,
            infra_config,
            f"DELETE FROM confessions.communities WHERE bot_id = {broken_bot}",
        )


async def test_more_updates_at_once_than_redis_connections_are_all_handled(
    world: World, community: World.Community
) -> None:
    """Many bots' webhooks at once (Telegram opens up to 100 connections per bot):
    the gateway handles them all, queueing past its bound of updates in flight,
    and none fails for want of a Redis connection (redis-py's cluster client
    refuses a command, it does not wait, when a node's pool is used up)."""
    secret = community_secret(world, community)
    url = f"{world.stack.gateway_url}/webhook/{community.id}"
    headers = {"Content-Type": "application/json", SECRET_HEADER: secret}
    users = [new_user_id() for _ in range(400)]
    world.user_ids.extend(users)

    async def post(http: aiohttp.ClientSession, n: int, user_id: int) -> int:
        body = orjson.dumps(message_update(20_000 + n, user_id, "/help"))
        async with http.post(url, data=body, headers=headers) as response:
            await response.read()
            return response.status

    # No connection limit on this client: every update is on the wire at once.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        statuses = await asyncio.gather(*(post(http, n, u) for n, u in enumerate(users)))
    assert sorted(set(statuses)) == [200], {s: statuses.count(s) for s in set(statuses)}
    assert "MaxConnectionsError" not in world.stack.log_path("gateway").read_text()
