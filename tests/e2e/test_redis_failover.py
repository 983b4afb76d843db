"""A Redis master fails over: the cluster client follows, state and limits continue."""

from __future__ import annotations

import asyncio
import time

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from tests.support.world import World, buttons
from tools.devstack.infra.config import InfraConfig
from tools.devstack.infra.redis_cluster import kill_redis_node, start_redis_node


async def _role(port: int) -> str | None:
    client = Redis(host="127.0.0.1", port=port, socket_timeout=1)
    try:
        info = await client.info("replication")
        return str(info["role"])
    except (OSError, RedisError):
        return None
    finally:
        await client.aclose()


@pytest.mark.last
async def test_member_flow_survives_master_failover(
    world: World, community: World.Community, infra_config: InfraConfig
) -> None:
    member = community.member()
    await member.send("✍️ New confession")
    await member.send("written before the failover")
    preview = await member.last()
    roles = {port: await _role(port) for port in infra_config.redis_ports}
    masters = [port for port, role in roles.items() if role == "master"]
    assert len(masters) == 3, roles
    victim = masters[0]
    kill_redis_node(infra_config, victim)
    try:
        # Straight away, while the cluster is electing a new master: the update is
        # retried (by the client, and by Telegram on a 5xx) until it goes through.
        result = await member.press(preview["message_id"], buttons(preview)["✅ Send"])
        assert result["status"] == 200, result
        sent = next(
            m for m in await member.bot_messages() if m["message_id"] == preview["message_id"]
        )
        assert sent["text"] == "Received — confession #1 is waiting for review."
        deadline = time.monotonic() + 20
        while True:
            live = [p for p in infra_config.redis_ports if p != victim]
            if [await _role(p) for p in live].count("master") == 3:
                break
            assert time.monotonic() < deadline, "no replica was promoted"
            await asyncio.sleep(0.2)
        await member.send("/my")
        assert "written before the failover" in (await member.last())["text"]
    finally:
        start_redis_node(infra_config, victim)
