"""``make chaos``: faults under an open-loop mixed load; every update accounted for.

Starts its own stack under ``.veil/chaos`` (tools/chaos/topology.py: two of
every process behind nginx, three notifier workers, Postgres primary+replica,
Redis Cluster, the emulator retrying like Telegram), seeds the bench's
communities (tools/bench/world.py), starts Prometheus with the chart's alert
rules, then runs the bench's k6 mix (tools/bench/webhook.js, MODE=chaos) at ``RATE``
updates/s for ``DURATION`` seconds while tools/chaos/script.py strikes. Prints
the ledger, latency per fault window, recovery and alerts per fault; exits 1 on
any lost update, duplicated effect or silent fault.

Knobs (environment): RATE (default 50, half of make bench's sustained 100/s),
DURATION (420), FAULTS (indices into the script, e.g. ``0,1,2``; default all),
SCALE (stretches the script's times), MEMBERS, COMMUNITIES.
"""

from __future__ import annotations

import asyncio
import faulthandler
import json
import os
import signal
import sys
import threading
import time
import urllib.request
from typing import Any

from tools.bench import world as bench_world
from tools.bench.k6 import run_k6
from tools.chaos import collect, report
from tools.chaos.prom import Prometheus, alert_history
from tools.chaos.proxy import Proxy
from tools.chaos.script import Runner, default_script
from tools.chaos.topology import ChaosStack, plan
from tools.devstack.infra import lifecycle
from tools.devstack.infra.config import InfraConfig
from tools.devstack.infra.postgres_sql import psql
from tools.devstack.ports import Ports, free_port
from tools.devstack.stack import REPO_ROOT
from veil.core.sealing import Keyring


def _probe(emulator: str, bot: int, first_user: int) -> Any:
    """A fresh member's /help must be answered on the first attempt (5 s at most)."""
    users = iter(range(first_user, first_user + 1_000_000))

    def probe() -> bool:
        body = json.dumps({"text": "/help"}).encode()
        request = urllib.request.Request(
            f"{emulator}/control/bots/{bot}/users/{next(users)}/messages",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                result = json.loads(answer.read())
        except OSError:
            return False
        return bool(result.get("status") == 200 and result.get("attempts") == 1)

    return probe


def _settle(stack: ChaosStack, bots: list[int], timeout: float) -> None:
    """Wait until the emulator retries nothing and the outbox is empty (or ``timeout``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        unsent = psql(
            stack.infra_config, "SELECT count(*) FROM notifier.outbox WHERE status <> 'sent'"
        )
        if collect.pending_updates(stack.emulator_url, bots) == 0 and unsent.strip() == "0":
            return
        time.sleep(2)


def main() -> None:
    """Run the chaos scenario and print its ledger and alert table.

    One function on purpose: it is the run's script, read top-down (knobs,
    stack, load, faults, ledger, alerts), and one ``try`` stops every process
    of the run whatever step fails.
    """
    # SIGTERM (timeout, Ctrl-C's cousin) still stops every process of the run.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    # kill -USR1 <pid> prints every thread's stack (a fault that hangs).
    faulthandler.register(signal.SIGUSR1)
    rate = int(os.environ.get("RATE", "50"))
    duration = int(os.environ.get("DURATION", "420"))
    scale = float(os.environ.get("SCALE", "1"))
    communities = int(os.environ.get("COMMUNITIES", "3"))
    max_vus = int(os.environ.get("MAX_VUS", "300"))
    members = max(int(os.environ.get("MEMBERS", "450")), max_vus)
    script = default_script(scale)
    if os.environ.get("FAULTS"):
        script = [script[int(i)] for i in os.environ["FAULTS"].split(",")]
    root = REPO_ROOT / ".veil" / "chaos"
    cfg = InfraConfig.shifted(root, 400)
    lifecycle.destroy(cfg)
    instances = plan()
    proxy = Proxy(root / "nginx", free_port(), [i.port for i in instances if i.kind == "gateway"])
    stack = ChaosStack(
        cfg,
        ports=Ports.ephemeral(),
        public_url=proxy.url,
        attached=True,
        log_level="WARNING",
        extra_env={"VEIL_RATE_LIMIT_BURST": "1000", "VEIL_RATE_LIMIT_PER_MINUTE": "100000"},
        instances=instances,
        proxy=proxy,
    )
    prometheus = Prometheus(root / "prometheus", free_port(), instances)
    try:
        print("chaos: starting the stack (2 of each, 3 workers, nginx)…", flush=True)
        stack.start_infra()
        stack.start_services()
        world, roster = asyncio.run(bench_world.build(stack, communities, members, threads=4))
        channels = {c.id: -1007100000000 - 2 * n for n, c in enumerate(world)}
        prometheus.start()
        start_at = time.time() + 10
        names = report.windows(script, duration)
        config = {
            "communities": [c.to_config() for c in world],
            "members": roster,
            "emulator": stack.emulator_url,
            "rate": rate,
            "duration": duration,
            "grace_seconds": 300,
            "request_timeout": "300s",
            "via_emulator": True,
            "start_at": start_at,
            "windows": [list(w) for w in names],
            "max_vus": max_vus,
            "settle_seconds": 0.5,
            "update_id_base": (int(time.time()) % 100_000 + 1) * 10_000_000_000,
        }
        path = root / "k6-config.json"
        path.write_text(json.dumps(config))
        print(f"chaos: {rate}/s for {duration}s, {len(script)} faults…", flush=True)
        result: dict[str, Any] = {}
        load = threading.Thread(
            target=lambda: result.update(run_k6(path, "chaos", root / "k6-summary.json"))
        )
        load.start()
        probe = _probe(stack.emulator_url, world[0].bot_id, bench_world.FIRST_MEMBER_ID + 900_000)
        struck = Runner(stack, probe, start_at).run(script)
        load.join()
        bots = [c.bot_id for c in world]
        _settle(stack, bots, timeout=120)
        time.sleep(30)  # alerts resolve on the next evaluations
        seen = alert_history(prometheus, start_at - 60, time.time())
        pending = collect.pending_updates(stack.emulator_url, bots)
        window_names = [w[0] for w in names]
        offered = collect.offered_from_emulator(stack.emulator_url, bots)
        by_k6 = collect.offered_from_k6(result, window_names, pending)
        seal = stack.seal_env()
        keys = Keyring.parse(seal["VEIL_SEAL_MASTER_KEYS"], seal["VEIL_SEAL_LOOKUP_KEY"])
        accounts = collect.build(
            cfg, stack.emulator_url, world, channels, offered, keys, roster
        ).account()
        print("\nledger (every update id the emulator was given, the seeding's and probes' too)")
        print("\n".join(accounts.lines()))
        print(
            f"  the load offered {len(by_k6)} of them,"
            f" {sum(1 for o in by_k6 if o.status is not None)} answered 2xx to k6"
        )
        print("\nlatency per window (ms, from the first post to the webhook's 2xx)")
        print("\n".join(report.latency_lines(result, window_names)))
        print("\nfault → recovery → alert")
        print("\n".join(report.fault_lines(struck, seen, start_at)))
        quiet = report.silent(struck, seen)
        print(
            f"\nsilent faults: {len(quiet)}  lost: {len(accounts.lost)}"
            f"  duplicated: {len(accounts.duplicated)}"
        )
        if not accounts.clean or quiet:
            sys.exit(1)
    finally:
        prometheus.stop()
        stack.stop_all()
        lifecycle.stop(cfg)


if __name__ == "__main__":
    main()
