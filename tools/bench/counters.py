"""What ``make bench`` measures besides latency: CPU per process and work counts.

CPU: utime+stime of every process **plus cutime+cstime** (the CPU of its
children that exited and were reaped), so Postgres backends that end during a
run still count: the postmaster's cutime+cstime plus its live children.

Counts (totals across the stack, snapshotted and subtracted): gRPC calls handled
by the services (their ``veil_rpc_server_handled`` series), SQL statements
(``pg_stat_statements`` on the primary and the replica), Redis commands (``INFO
commandstats`` on the cluster's masters, including the commands Lua scripts run),
in the count phase Redis round trips (MONITOR: the commands clients sent), and
Bot API calls (the emulator's stats; the gateway's metrics say how many of them
rode in a webhook answer).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from tools.devstack.environment import SERVICES, WORKERS
from tools.devstack.infra.config import InfraConfig
from tools.devstack.infra.postgres_sql import admin_sql
from tools.devstack.stack import Stack

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

#: Extra postgresql.conf lines for the bench's Postgres.
PG_SETTINGS = (
    "shared_preload_libraries = 'pg_stat_statements'\n"
    "pg_stat_statements.track = all\n"
    "pg_stat_statements.max = 2000\n"
)
_SQL_COUNT = (
    "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements "
    "WHERE query NOT ILIKE '%pg_stat_statements%'"
)
# Each statement's calls so far, its text on one line (psql's "|" separates columns).
_STATEMENTS = (
    "SELECT queryid, calls, left(replace(regexp_replace(query, '\\s+', ' ', 'g'), '|', '/'), 150) "
    "FROM pg_stat_statements WHERE query NOT ILIKE '%pg_stat_statements%'"
)
# Commands of the bench itself and of the cluster's housekeeping, not of Veil's work.
_REDIS_OWN = {
    "info",
    "cluster",
    "ping",
    "config",
    "client",
    "command",
    "readonly",
    "hello",
    "replconf",
    "psync",
    "sync",
    "select",
    "auth",
}
_RPC_LINE = re.compile(rb"^veil_rpc_server_handled_total\{[^}]*\} ([0-9.e+]+)$", re.M)
_IN_REPLY_LINE = re.compile(
    rb'^veil_gateway_bot_api_calls_total\{[^}]*code="webhook answer"[^}]*\} ([0-9.e+]+)$', re.M
)


def _stat_fields(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """utime+stime+cutime+cstime of one process, in seconds."""
    fields = _stat_fields(pid)
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / CLOCK_TICKS


def _children(pid: int) -> list[int]:
    result = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat_fields(int(entry.name))[1]) == pid:
                    result.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return result


def _pidfile_pid(path: Path) -> int:
    return int(path.read_text().split()[0])


def process_groups(stack: Stack, cfg: InfraConfig) -> dict[str, list[int]]:
    """PIDs per named process; Postgres includes its backends, Redis all 6 nodes."""
    groups = {
        name: [_pidfile_pid(stack.root / "run" / f"{name}.pid")]
        for name in ("gateway", *SERVICES, *WORKERS, "emulator")
    }
    for label, datadir in (("postgres-primary", "primary"), ("postgres-replica", "replica")):
        groups[label] = [_pidfile_pid(cfg.root / "pg" / datadir / "postmaster.pid")]
    groups["redis"] = [_pidfile_pid(p) for p in sorted((cfg.root / "redis").glob("*/*.pid"))]
    return groups


def cpu_snapshot(groups: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds per group, children (live, and reaped via cutime) included."""
    result: dict[str, float] = {}
    for name, pids in groups.items():
        total = 0.0
        for pid in pids:
            for member in (pid, *_children(pid)):
                try:
                    total += cpu_seconds(member)
                except (OSError, IndexError):
                    continue
        result[name] = total
    return result


_FIELDS = ("grpc", "sql", "redis", "redis_trips", "bot_api", "in_reply")


@dataclass
class Counts:
    """Work done across the stack (cumulative, or a difference of two).

    ``redis``: commands Redis ran (commandstats; a Lua script's inner commands
    included); ``redis_trips``: commands clients sent (MONITOR, count phase
    only); ``bot_api``: calls the emulator executed, ``in_reply`` of them rode in
    a webhook answer instead of a request of their own.
    """

    grpc: float = 0.0
    sql: float = 0.0
    redis: float = 0.0
    redis_trips: float = 0.0
    bot_api: float = 0.0
    in_reply: float = 0.0

    def _combine(self, other: Counts, sign: float) -> Counts:
        return Counts(*(getattr(self, f) + sign * getattr(other, f) for f in _FIELDS))

    def __sub__(self, other: Counts) -> Counts:
        return self._combine(other, -1.0)

    def __add__(self, other: Counts) -> Counts:
        return self._combine(other, 1.0)

    def scaled(self, factor: float) -> Counts:
        """Every count times ``factor``."""
        return Counts(*(getattr(self, f) * factor for f in _FIELDS))


class RedisTrips:
    """Commands clients send to the masters (not those Lua scripts run), via MONITOR.

    MONITOR costs Redis CPU, so it runs only in the count phase.
    """

    def __init__(self, ports: list[int]) -> None:
        self.count = 0
        self._lock = threading.Lock()
        self._monitors: list[Any] = []
        # Kept referenced: a client that is collected closes its pool, the monitor's too.
        self._clients = [redis.Redis(host="127.0.0.1", port=port) for port in ports]
        for client in self._clients:
            if client.info("replication")["role"] == "master":
                monitor = client.monitor()  # type: ignore[no-untyped-call]
                monitor.__enter__()
                self._monitors.append(monitor)
                threading.Thread(target=self._listen, args=(monitor,), daemon=True).start()

    def _listen(self, monitor: Any) -> None:
        try:
            for event in monitor.listen():
                name = event["command"].split(" ", 1)[0].lower()
                if event["client_type"] != "lua" and name not in _REDIS_OWN:
                    with self._lock:
                        self.count += 1
        except Exception:  # the connection closed by stop()
            return

    def stop(self) -> None:
        """Stop monitoring."""
        for monitor in self._monitors:
            with contextlib.suppress(Exception):
                monitor.connection.disconnect()


class CountReader:
    """Reads the cumulative counts of a running bench stack."""

    def __init__(self, stack: Stack, cfg: InfraConfig) -> None:
        self._stack = stack
        self._cfg = cfg
        self._redis = [redis.Redis(host="127.0.0.1", port=p) for p in cfg.redis_ports]
        self.trips: RedisTrips | None = None

    def monitor_trips(self, on: bool) -> None:
        """Count Redis round trips (MONITOR) from now on, or stop counting them."""
        if on and self.trips is None:
            self.trips = RedisTrips(list(self._cfg.redis_ports))
        elif not on and self.trips is not None:
            self.trips.stop()
            self.trips = None

    def enable_sql_counting(self) -> None:
        """Create pg_stat_statements (the library is preloaded by PG_SETTINGS)."""
        admin_sql(
            self._cfg,
            self._cfg.pg_port,
            "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
            database=self._cfg.database,
        )

    def _sql(self) -> float:
        return sum(
            float(admin_sql(self._cfg, port, _SQL_COUNT, database=self._cfg.database))
            for port in (self._cfg.pg_port, self._cfg.pg_replica_port)
        )

    def statements(self) -> dict[tuple[int, str], tuple[int, str]]:
        """(server port, query id) → (calls so far, the statement's text), on the
        primary and the replica."""
        found: dict[tuple[int, str], tuple[int, str]] = {}
        for port in (self._cfg.pg_port, self._cfg.pg_replica_port):
            out = admin_sql(self._cfg, port, _STATEMENTS, database=self._cfg.database)
            for line in out.splitlines():
                queryid, calls, text = line.split("|", 2)
                found[(port, queryid)] = (int(calls), text)
        return found

    def _grpc_and_in_reply(self) -> tuple[float, float]:
        total = 0.0
        for name in SERVICES:
            url = f"http://127.0.0.1:{self._stack.ports.metrics(name)}/metrics"
            with urllib.request.urlopen(url, timeout=5) as response:
                total += sum(float(v) for v in _RPC_LINE.findall(response.read()))
        url = f"http://127.0.0.1:{self._stack.ports.metrics('gateway')}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            in_reply = sum(float(v) for v in _IN_REPLY_LINE.findall(response.read()))
        return total, in_reply

    def _redis_commands(self) -> float:
        """Commands the masters ran (a script's inner commands included)."""
        commands = 0.0
        for client in self._redis:
            if client.info("replication")["role"] != "master":
                continue
            for key, stats in client.info("commandstats").items():
                if key.removeprefix("cmdstat_").split("|")[0] not in _REDIS_OWN:
                    commands += stats["calls"]
        return commands

    def _bot_api(self) -> float:
        with urllib.request.urlopen(f"{self._stack.emulator_url}/control/stats", timeout=5) as r:
            return float(json.loads(r.read())["calls"])

    def read(self) -> Counts:
        """The cumulative counts now."""
        return self._counts(self._sql())

    def read_by_statement(self) -> tuple[Counts, dict[tuple[int, str], int]]:
        """The cumulative counts now, and each statement's calls so far (its
        server's port and query id → calls): what the SQL count is the sum of."""
        calls = {key: done for key, (done, _) in self.statements().items()}
        return self._counts(float(sum(calls.values()))), calls

    def _counts(self, sql: float) -> Counts:
        grpc, in_reply = self._grpc_and_in_reply()
        trips = float(self.trips.count) if self.trips is not None else 0.0
        return Counts(grpc, sql, self._redis_commands(), trips, self._bot_api(), in_reply)

    def close(self) -> None:
        """Close the Redis connections."""
        self.monitor_trips(False)
        for client in self._redis:
            client.close()
