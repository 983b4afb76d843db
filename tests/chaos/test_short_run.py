"""make chaos, short: two overlapping faults under a small load, on the suite's stack.

Members keep confessing (three at a time) while the notifier worker is killed
with SIGKILL and stays down past VeilProcessDown's ``for`` (a pod that does not
come back), and the Bot API answers 502 to a burst of sends as it comes back.
A real Prometheus scrapes every process with the chart's alert rules. At the
end the chaos ledger accounts for every update id the bot was given and every
confession's card: 0 lost, 0 duplicated; and VeilProcessDown named the worker,
fired, and resolved once it was back. ``make chaos`` is the long run.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import time
from collections.abc import Iterator

import pytest

from tests.support.moderation import confess
from tests.support.world import World
from tools.chaos import collect
from tools.chaos.ledger import Confession, Ledger
from tools.chaos.prom import Prometheus, Seen, alert_history
from tools.chaos.topology import Instance
from tools.devstack.environment import SERVICES
from tools.devstack.infra.config import InfraConfig
from tools.devstack.infra.postgres_sql import psql
from tools.devstack.ports import free_port
from tools.devstack.stack import Stack
from veil.core.outbox import card_key

SCRAPE_SECONDS = 2.0
DOWN_SECONDS = 66.0  # VeilProcessDown: ``for: 1m`` after the first failed scrape
WRITERS = 2


@pytest.fixture
def prometheus(stack: Stack) -> Iterator[Prometheus]:
    """Prometheus scraping the suite's processes, with the chart's rules."""
    names = ["gateway", *SERVICES, "notifier-worker"]
    instances = [Instance(n, n, 0, stack.ports.metrics(n)) for n in names]
    server = Prometheus(stack.root / "prometheus", free_port(), instances, SCRAPE_SECONDS)
    server.start()
    yield server
    server.stop()


async def _worker_down_alert(prometheus: Prometheus, began: float) -> list[Seen]:
    seen = await asyncio.to_thread(alert_history, prometheus, began, time.time())
    return [s for s in seen if s.name == "VeilProcessDown" and "pod=notifier-worker" in s.labels]


async def test_overlapping_faults_under_load_lose_nothing_and_page(
    world: World, stack: Stack, infra_config: InfraConfig, prometheus: Prometheus
) -> None:
    """Two overlapping faults under a confession load, then the ledger and the alert.

    One test because the page and the losses are of the same run.
    """
    community = await world.create_community("Chaos short")
    # Telegram allows a group 20 messages a minute: cards of a load this dense
    # would take minutes to drain. The emulator enforces no limit here, so the
    # admin chat's is raised (as `veil notifier limits` would).
    psql(
        infra_config,
        "INSERT INTO notifier.community_limits (community_id, per_group_per_minute)"
        f" VALUES ({community.id}, 1200)",
    )
    run = secrets.token_hex(3)
    stop = asyncio.Event()
    sent: list[str] = []

    async def write() -> None:
        # A new member each time (a member may send only a few a day).
        while not stop.is_set():
            member = community.member()
            await member.start()
            text = f"chaos {run} {len(sent)}"
            sent.append(text)
            await confess(member, text)
            await asyncio.sleep(2.0)

    writers = [asyncio.create_task(write()) for _ in range(WRITERS)]
    began = time.time()
    try:
        await asyncio.sleep(4)
        stack.stop_process("notifier-worker", signal.SIGKILL)
        killed = time.time()
        try:
            await asyncio.sleep(DOWN_SECONDS - 6)
            # The second fault, overlapping: Telegram failing as the worker comes back.
            await world.control(
                "POST",
                "/fail",
                # Fewer than the suite's 4 attempts: retried, not dead-lettered.
                {
                    "method": "sendMessage",
                    "chat_id": community.admin_chat_id,
                    "error_code": 502,
                    "count": 3,
                },
            )
            await asyncio.sleep(6)
        finally:
            await asyncio.to_thread(stack.start_workers)
        await asyncio.sleep(4)
    finally:
        stop.set()
        await asyncio.gather(*writers)

    # Paged: VeilProcessDown named the worker and fired while it was down ...
    fired = [s for s in await _worker_down_alert(prometheus, began) if s.fired_at is not None]
    assert fired, await _worker_down_alert(prometheus, began)
    moment = fired[0].fired_at
    assert moment is not None and killed < moment < killed + DOWN_SECONDS + 2 * SCRAPE_SECONDS
    # ... and resolved once it was back.
    deadline = time.monotonic() + 30
    while any(a["labels"]["alertname"] == "VeilProcessDown" for a in prometheus.alerts()):
        assert time.monotonic() < deadline, prometheus.alerts()
        await asyncio.sleep(1)

    # Everything accounted for once the queue drained: 0 lost, 0 duplicated.
    deadline = time.monotonic() + 60
    while True:
        ledger = await asyncio.to_thread(_ledger, world, community, infra_config)
        accounts = ledger.account()
        if not accounts.pending or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    assert accounts.clean and not accounts.pending, accounts.lines()
    # Each member: /start, the button, the text, ✅ Send.
    assert accounts.completed == accounts.offered >= len(sent) * 4
    texts = [c.text for c in ledger.confessions]
    assert sorted(texts) == sorted(sent)  # every Send is one confession
    episode = fired[0]
    print(
        f"\nchaos short: {len(sent)} Sends; VeilProcessDown{{pod=notifier-worker}} fired"
        f" {moment - killed:.0f} s after the kill, resolved"
        f" {(episode.resolved_at or 0) - killed:.0f} s after it\n" + "\n".join(accounts.lines())
    )


def _ledger(world: World, community: World.Community, cfg: InfraConfig) -> Ledger:
    emulator = world.stack.emulator_url
    rows = json.loads(
        psql(
            cfg,
            "SELECT coalesce(json_agg(json_build_object('id', id, 'number', number,"
            " 'status', status, 'text', text)), '[]') FROM confessions.confessions"
            f" WHERE community_id = {community.id}",
        )
    )
    ledger = Ledger(
        offered=collect.offered_from_emulator(emulator, [community.bot_id]),
        confessions=[Confession(community.id, r["number"], r["status"], r["text"]) for r in rows],
    )
    ledger.cards[community.id] = collect.bot_texts(
        emulator, community.bot_id, community.admin_chat_id
    )
    unsent = json.loads(
        psql(
            cfg,
            "SELECT coalesce(json_agg(json_build_object('key', idempotency_key,"
            " 'status', status)), '[]') FROM notifier.outbox"
            f" WHERE community_id = {community.id} AND status IN ('queued', 'sending')",
        )
    )
    cards = {card_key(r["id"]): r["number"] for r in rows}
    for row in unsent:
        if row["key"] in cards:
            ledger.on_the_way[(community.id, cards[row["key"]])] = row["status"]
    return ledger
