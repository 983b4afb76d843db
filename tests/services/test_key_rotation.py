"""Issue 15: ``veil keys rotate`` re-wraps data keys while every process keeps serving.

The suite's processes read a second master key (``rot2``, see tests/conftest.py)
that is not current: the state of a deployment between the first two steps of
the README's procedure. The rotation runs with ``rot2`` current while members
register and messages are queued and sent; nothing is lost: every message is
sent to its member, every member keeps their id, notices reach members whose
data keys were re-wrapped, and the rows are under ``rot2`` afterwards.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from tests.conftest import ROTATION_KEY_ID, rotation_key
from tests.support.moderation import admin_says, confess, number_of, shown
from tests.support.outbox import bot_calls, settled, started_members, text_call
from tests.support.services import Services
from tests.support.threads import until
from tests.support.world import World, new_user_id
from tools.devstack.infra import config as infra
from tools.devstack.infra.postgres_sql import psql
from tools.devstack.stack import REPO_ROOT, Stack
from veil.core.db import Database
from veil.core.outbox import Outbox
from veil.core.settings import DatabaseSettings


def _rotate(stack: Stack, service: str) -> subprocess.CompletedProcess[str]:
    current = stack.secrets()["seal_master_keys"]
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "VEIL_DB_PRIMARY_DSN": stack.infra_config.pg_dsn(infra.SERVICE_ROLES[service]),
        "VEIL_SEAL_MASTER_KEYS": f"{ROTATION_KEY_ID}:{rotation_key(stack)},{current}",
        "VEIL_SEAL_LOOKUP_KEY": stack.secrets()["seal_lookup_key"],
    }
    return subprocess.run(
        [sys.executable, "-m", "veil.cli", "keys", "rotate", service],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO_ROOT,
    )


async def test_rotation_under_load_loses_nothing(
    world: World, community: World.Community, stack: Stack, services: Services
) -> None:
    """A key rotation while messages are sent and members join.

    One test because the checks are of what that one run under load left.
    """
    infra_config = stack.infra_config
    author = community.member()
    await author.start()
    number = number_of(await confess(author, "rotate me"))
    # Members who opened the bot's chat (the emulator refuses others).
    before = [m.user_id for m in await started_members(community, 30)]
    ids_before = {u: await services.member_id(community, u) for u in before}
    outbox, channel = Outbox.connect(f"127.0.0.1:{stack.ports.notifier}")
    sent_ids: list[int] = []
    expected: dict[int, str] = {}
    stop = asyncio.Event()

    async def load() -> None:
        # Messages to known members (queued, sent, some in flight at any
        # moment), and new members joining, all through the rotation.
        i = 0
        while not stop.is_set():
            user = before[i % len(before)]
            text = f"rot {community.id} {i}"
            sent_ids.extend(
                await outbox.send([text_call(community, user, text, f"rot:{community.id}:{i}")])
            )
            expected[i] = f"{user}|{text}"
            await services.member_id(community, new_user_id())
            i += 1
            await asyncio.sleep(0.02)

    loader = asyncio.create_task(load())
    try:
        await asyncio.sleep(1.0)
        for service in ("confessions", "notifier"):
            done = await asyncio.to_thread(_rotate, stack, service)
            assert done.returncode == 0, done.stderr[-2000:]
            assert f"re-wrapped under '{ROTATION_KEY_ID}'" in done.stdout, done.stdout
        await asyncio.sleep(1.0)
    finally:
        stop.set()
        await loader
    assert len(sent_ids) >= 20

    db = Database.from_settings(
        DatabaseSettings(
            db_primary_dsn=infra_config.pg_dsn(infra.SERVICE_ROLES["notifier"])  # type: ignore[arg-type]
        ),
        "rotation-test",
    )
    try:
        found = await settled(db, sent_ids, within=120)
    finally:
        await db.dispose()
    assert {r.status for r in found} == {"sent"}
    calls = await bot_calls(world, community.bot_id, "sendMessage")
    delivered = {
        f"{c['params']['chat_id']}|{c['params']['text']}"
        for c in calls
        if str(c["params"].get("text", "")).startswith(f"rot {community.id} ")
    }
    assert set(expected.values()) <= delivered

    # Every member is the same member; their data keys are under the new key.
    for user, member_id in ids_before.items():
        assert await services.member_id(community, user) == member_id
    under = await asyncio.to_thread(
        psql,
        infra_config,
        "SELECT count(*) FILTER (WHERE substring(data_key from 3 for get_byte(data_key, 1)) "
        f"= convert_to('{ROTATION_KEY_ID}', 'UTF8')), count(*) FROM confessions.members "
        f"WHERE community_id = {community.id} AND id <= {max(ids_before.values())}",
    )
    rewrapped, total = (int(x) for x in under.split("|"))
    assert rewrapped == total and total >= len(before)

    # The running confessions service (whose current key is still the old one)
    # opens the re-wrapped chat of the author: the ban notice reaches them.
    banned = await admin_says(community, 1, f"/ban #{number} rotated")
    assert shown(banned).startswith("🚫 Banned")

    async def told() -> bool:
        return any("🚫" in shown(m) for m in await author.bot_messages())

    await until(told, "the banned author was never told", seconds=60)
    await channel.close()
