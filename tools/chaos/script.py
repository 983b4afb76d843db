"""The faults of a chaos run: what strikes, when, and how long until members are served again.

Each fault runs in its own thread at ``at`` seconds after the load started, so
faults overlap when the script says so. A fault's ``strike`` does the harm and
undoes it (a killed pod is started again after ``down`` seconds, as Kubernetes
would; a stopped replica is started again). Recovery is measured by a probe
member whose ``/help`` must be answered on the first delivery attempt, with
the fault's victim (if it has one) ready again.
"""

from __future__ import annotations

import contextlib
import json
import signal
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

import redis

from tools.chaos.topology import ChaosStack
from tools.devstack.infra.postgres import (
    start_postgres,
    start_replica,
    stop_primary,
    stop_replica,
)
from tools.devstack.infra.postgres_sql import psql
from tools.devstack.infra.redis_cluster import kill_redis_node, start_redis_node


@dataclass
class Fault:
    """One scripted fault and the alerts that should name it.

    ``alerts`` must fire (the run fails otherwise). A fault that heals by itself
    faster than its alert's ``for`` is not paged, on purpose: ``unpaged`` says
    which alert covers a longer one and why this one is not worth waking
    anyone (the table prints it, and shows that alert going *pending* when its
    expression turned true meanwhile).
    """

    name: str
    at: float
    strike: Callable[[ChaosStack], None]
    alerts: tuple[str, ...] = ()
    # The instance the fault kills: recovered once it is ready again (and the
    # probe passes); other faults' victims still down do not count against it.
    target: str | None = None
    unpaged: str = ""


@dataclass
class Struck:
    """What happened: wall-clock times of the strike, its end, the first good probe."""

    fault: Fault
    began: float = 0.0
    ended: float = 0.0
    recovered: float | None = None
    error: str = ""

    @property
    def recovery_seconds(self) -> float | None:
        """From the strike to members being served on the first attempt again."""
        return None if self.recovered is None else self.recovered - self.began


def kill_and_restart(label: str, down: float = 5.0) -> Callable[[ChaosStack], None]:
    """kill -9 of one instance, started again ``down`` seconds later."""

    def strike(stack: ChaosStack) -> None:
        stack.kill(label, signal.SIGKILL)
        time.sleep(down)
        stack.restart(label)

    return strike


def rolling_restart(stack: ChaosStack) -> None:
    """SIGTERM each instance in turn, waiting for it to be ready before the next."""
    for kind in ("notifier-worker", "confessions", "social", "notifier", "gateway"):
        for item in stack.by_kind(kind):
            stack.restart(item.label, sig=signal.SIGTERM)


def redis_failover(down: float = 20.0) -> Callable[[ChaosStack], None]:
    """kill -9 of a Redis master; a replica is promoted; the node comes back as a replica."""

    def strike(stack: ChaosStack) -> None:
        cfg = stack.infra_config
        victim = next(p for p in cfg.redis_ports if _redis_role(p) == "master")
        kill_redis_node(cfg, victim)
        time.sleep(down)
        start_redis_node(cfg, victim)

    return strike


def replica_stop(down: float = 30.0) -> Callable[[ChaosStack], None]:
    """The Postgres replica stopped, started again ``down`` seconds later."""

    def strike(stack: ChaosStack) -> None:
        stop_replica(stack.infra_config)
        time.sleep(down)
        start_replica(stack.infra_config)

    return strike


def wal_replay_paused(down: float = 30.0) -> Callable[[ChaosStack], None]:
    """The replica falls behind: WAL replay paused for ``down`` seconds."""

    def strike(stack: ChaosStack) -> None:
        # The replica may be coming back from an overlapping fault: wait for it.
        deadline = time.monotonic() + 60
        while True:
            try:
                psql(stack.infra_config, "SELECT pg_wal_replay_pause()", replica=True)
                break
            except RuntimeError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        time.sleep(down)
        psql(stack.infra_config, "SELECT pg_wal_replay_resume()", replica=True)

    return strike


def primary_restart(stack: ChaosStack) -> None:
    """The Postgres primary stopped (fast shutdown) and started again at once."""
    stop_primary(stack.infra_config)
    start_postgres(stack.infra_config)


def bot_api_failing(code: int, count: int, retry_after: int = 0) -> Callable[[ChaosStack], None]:
    """The Bot API answers ``code`` to the next ``count`` calls (the emulator's /control/fail)."""

    def strike(stack: ChaosStack) -> None:
        body: dict[str, object] = {"error_code": code, "count": count}
        if retry_after:
            body["retry_after"] = retry_after
        request = urllib.request.Request(
            f"{stack.emulator_url}/control/fail",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10):
            pass

    return strike


def default_script(scale: float = 1.0) -> list[Fault]:
    """The long run's sequence (``scale`` stretches the gaps); some faults overlap.

    One function on purpose: it is a timetable, one entry per fault in the
    order they strike; split, the overlaps would no longer be seen at a glance.
    """

    def at(seconds: float) -> float:
        return seconds * scale

    down = "down ~5 s + start-up; VeilProcessDown needs 1 min without a scrape"
    return [
        Fault(
            "kill -9 confessions",
            at(20),
            kill_and_restart("confessions"),
            target="confessions",
            unpaged=f"{down}; the other pod serves meanwhile",
        ),
        Fault(
            "kill -9 gateway mid-update",
            at(45),
            kill_and_restart("gateway-2"),
            target="gateway-2",
            unpaged=f"{down}; nginx and Telegram's retry carry its updates",
        ),
        Fault(
            "Bot API 502 burst",
            at(50),
            bot_api_failing(502, 40),
            unpaged="40 failed calls retried in seconds; VeilQueueOldestMessage pages "
            "when Telegram keeps failing (a queued call older than 10 min for 5 min)",
        ),
        Fault(
            "social-2 down 90 s (not restarted)",
            at(75),
            kill_and_restart("social-2", down=90),
            ("VeilProcessDown",),
            "social-2",
        ),
        Fault(
            "kill -9 notifier",
            at(100),
            kill_and_restart("notifier"),
            target="notifier",
            unpaged=f"{down}; the other pod takes the enqueues",
        ),
        Fault(
            "notifier worker killed while sending",
            at(105),
            kill_and_restart("notifier-worker"),
            target="notifier-worker",
            unpaged=f"{down}; its leases run out and two workers send on",
        ),
        Fault(
            "Bot API 429 burst",
            at(130),
            bot_api_failing(429, 40, retry_after=3),
            unpaged="40 answers of 429 in a burst; VeilTelegram429Rate pages a rate "
            "above 0.1/s held for 10 min (limits set wrong), not one burst",
        ),
        Fault(
            "Redis master failover",
            at(150),
            redis_failover(),
            unpaged="a replica is promoted within seconds; VeilWebhookErrorRatio pages "
            "errors above 5% for 10 min",
        ),
        Fault(
            "replica stopped",
            at(190),
            replica_stop(),
            unpaged="30 s; reads go to the primary meanwhile; VeilReplicaDown pages "
            "a replica down for 5 min",
        ),
        Fault(
            "WAL replay paused 30 s",
            at(240),
            wal_replay_paused(),
            unpaged="30 s; own writes are read from the primary; VeilReplicaLag pages "
            "a lag above 10 s for 5 min",
        ),
        Fault(
            "rolling restart (SIGTERM)",
            at(290),
            rolling_restart,
            unpaged="a deploy: every pod drains and is ready again before the next",
        ),
        Fault(
            "Postgres primary restarted",
            at(380),
            primary_restart,
            unpaged="seconds of refused connections; VeilRpcErrorRatio and "
            "VeilWebhookErrorRatio page errors above 5% for 10 min",
        ),
    ]


@dataclass
class Runner:
    """Strikes the script's faults on time and probes recovery."""

    stack: ChaosStack
    probe: Callable[[], bool]
    start_at: float
    struck: list[Struck] = field(default_factory=list)

    def run(self, script: list[Fault]) -> list[Struck]:
        """Strike every fault (each in its thread); returns once all have recovered or failed."""
        threads = []
        for fault in script:
            entry = Struck(fault)
            self.struck.append(entry)
            thread = threading.Thread(target=self._one, args=(entry,), daemon=True)
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
        return self.struck

    def _one(self, entry: Struck) -> None:
        time.sleep(max(0.0, self.start_at + entry.fault.at - time.time()))
        entry.began = time.time()
        print(f"chaos: {entry.began - self.start_at:6.1f}s  {entry.fault.name}", flush=True)
        try:
            entry.fault.strike(self.stack)
        except Exception as error:  # reported in the table, the run goes on
            entry.error = f"{type(error).__name__}: {error}"[:200]
        entry.ended = time.time()
        deadline = entry.ended + 300
        while time.time() < deadline:
            target = entry.fault.target
            if (target is None or self.stack.ready(self.stack.instance(target))) and self.probe():
                entry.recovered = time.time()
                return
            time.sleep(1.0)


def _redis_role(port: int) -> str | None:
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=2)
    with contextlib.closing(client):
        try:
            return str(client.info("replication")["role"])
        except (OSError, redis.RedisError):
            return None
