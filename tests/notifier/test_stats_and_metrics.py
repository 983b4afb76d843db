"""``veil notifier stats`` and the worker's /metrics, after a mix of outcomes.

One community gets a message sent at once, one after a forced 429, one after a
502, one dead-lettered on a 400, and one waiting (``not_before`` two minutes
ahead) at background priority.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from tests.support.outbox import labels_key, scrape, settled, text_call, wait_for
from tests.support.world import World
from tools.devstack.stack import REPO_ROOT, Stack
from veil.core.db import Database
from veil.core.outbox import Outbox, OutgoingCall, Priority


@dataclass(frozen=True)
class Mix:
    """The community and what was queued for it."""

    community: World.Community
    waiting_id: int


@pytest.fixture(scope="module")
async def mix(world: World, outbox: Outbox, notifier_db: Database) -> Mix:
    community = await world.create_community("Stats")
    member = community.member()
    await member.start()
    chat = member.user_id
    for code in (429, 502):
        await world.control(
            "POST",
            "/fail",
            {"method": "sendMessage", "error_code": code, "chat_id": chat, "count": 1},
        )
    run = secrets.token_hex(4)
    ids = await outbox.send(
        [text_call(community, chat, f"m{i}", f"mix:{run}:{i}") for i in range(3)]
        + [
            OutgoingCall(
                community_id=community.id,
                method="sendMessage",
                chat_id=chat,
                params={"text": "<i>broken", "parse_mode": "HTML"},
                idempotency_key=f"mix:{run}:bad",
            )
        ]
    )
    found = await settled(notifier_db, ids)
    assert [r.status for r in found] == ["sent", "sent", "sent", "dead"]
    [waiting] = await outbox.send(
        [
            text_call(
                community,
                community.channel_id,
                "later",
                f"mix:{run}:later",
                priority=Priority.BACKGROUND,
                not_before=datetime.now(UTC) + timedelta(minutes=2),
            )
        ]
    )
    return Mix(community, waiting)


async def test_stats_prints_depth_age_totals_and_dead_letters(stack: Stack, mix: Mix) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "VEIL_NOTIFIER_ADDR": f"127.0.0.1:{stack.ports.notifier}",
        "VEIL_CONFESSIONS_ADDR": f"127.0.0.1:{stack.ports.confessions}",
    }
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "veil.cli", "notifier", "stats"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [line.split() for line in result.stdout.splitlines()]
    mine = [line for line in lines if line and line[0] == str(mix.community.id)]
    bot = mine[0][1]
    assert bot.startswith("@")
    queue, totals, letters = mine
    # community, bot, priority, unsent, oldest age
    assert queue[:4] == [str(mix.community.id), bot, "background", "1"]
    assert float(queue[4]) >= 0
    # queued, sending, sent, dead, dropped, collapsed
    assert totals[2:] == ["1", "0", "3", "1", "0", "0"]
    assert " ".join(letters[2:8]) == "1 x 400 Bad Request: can't"


async def test_worker_metrics_show_queue_rate_429s_retries_and_dead_letters(
    stack: Stack, http: aiohttp.ClientSession, mix: Mix
) -> None:
    community = str(mix.community.id)
    labels = labels_key({"community": community})
    queue = labels_key({"community": community, "priority": "3"})
    samples = await wait_for(
        lambda: scrape(http, stack.ports.notifier_worker_metrics),
        lambda s: s.get(("veil_notifier_queue_depth", queue)) == 1,
        interval=0.3,
    )
    assert samples[("veil_notifier_oldest_message_age_seconds", queue)] >= 0
    assert samples[("veil_notifier_sent_total", labels)] == 3  # the send rate's counter
    assert samples[("veil_notifier_429_total", labels)] == 1
    assert samples[("veil_notifier_retries_total", labels)] == 1
    assert samples[("veil_notifier_dead_letters_total", labels)] == 1
