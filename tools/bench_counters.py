"""What ``make bench`` measures besides latency: CPU per process and work counts.

CPU: utime+stime of every process **plus cutime+cstime** (the CPU of its
children that exited and were reaped), so Postgres backends that end during a
run still count: the postmaster's cutime+cstime plus its live children.

Counts (totals across the stack, snapshotted and subtracted): gRPC calls handled
by the services (their ``veil_rpc_server_handled`` series), SQL statements
(``pg_stat_statements`` on the primary and the replica), Redis commands (``INFO
commandstats`` on the cluster's masters, including the commands Lua scripts run,
with the script calls apart) and Bot API calls (the emulator's stats).
"""

from __future__ import annotations

import json
import os
import re
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import redis

from tools.devstack import infra
from tools.devstack.stack import SERVICES, WORKERS, Stack

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
_REDIS_SCRIPTS = {"eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro"}
_RPC_LINE = re.compile(rb"^veil_rpc_server_handled_total\{[^}]*\} ([0-9.e+]+)$", re.M)


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


def process_groups(stack: Stack, cfg: infra.InfraConfig) -> dict[str, list[int]]:
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


@dataclass
class Counts:
    """Work done across the stack (cumulative, or a difference of two)."""

    grpc: float = 0.0
    sql: float = 0.0
    redis_trips: float = 0.0
    redis_in_scripts: float = 0.0
    bot_api: float = 0.0

    def __sub__(self, other: Counts) -> Counts:
        return Counts(
            self.grpc - other.grpc,
            self.sql - other.sql,
            self.redis_trips - other.redis_trips,
            self.redis_in_scripts - other.redis_in_scripts,
            self.bot_api - other.bot_api,
        )

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.grpc + other.grpc,
            self.sql + other.sql,
            self.redis_trips + other.redis_trips,
            self.redis_in_scripts + other.redis_in_scripts,
            self.bot_api + other.bot_api,
        )

    def scaled(self, factor: float) -> Counts:
        """Every count times ``factor``."""
        return Counts(
            self.grpc * factor,
            self.sql * factor,
            self.redis_trips * factor,
            self.redis_in_scripts * factor,
            self.bot_api * factor,
        )


class CountReader:
    """Reads the cumulative counts of a running bench stack."""

    def __init__(self, stack: Stack, cfg: infra.InfraConfig) -> None:
        self._stack = stack
        self._cfg = cfg
        self._redis = [redis.Redis(host="127.0.0.1", port=p) for p in cfg.redis_ports]
        self._script_commands = 0

    def enable_sql_counting(self) -> None:
        """Create pg_stat_statements (the library is preloaded by PG_SETTINGS)."""
        infra._pg_admin_sql(
            self._cfg,
            self._cfg.pg_port,
            "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
            database=self._cfg.database,
        )

    def _sql(self) -> float:
        return sum(
            float(infra._pg_admin_sql(self._cfg, port, _SQL_COUNT, database=self._cfg.database))
            for port in (self._cfg.pg_port, self._cfg.pg_replica_port)
        )

    def _grpc(self) -> float:
        total = 0.0
        for name in SERVICES:
            url = f"http://127.0.0.1:{self._stack.ports.metrics(name)}/metrics"
            with urllib.request.urlopen(url, timeout=5) as response:
                total += sum(float(v) for v in _RPC_LINE.findall(response.read()))
        return total

    def _redis_counts(self) -> tuple[float, float]:
        """(commands, script calls) on the masters.

        Commands a Lua script runs are counted in commandstats too (one EVALSHA
        of the update guard is 1 script call and its ~5 inner commands); the
        script calls are given apart so round trips can be told from work.
        """
        commands = scripts = 0.0
        for client in self._redis:
            if client.info("replication")["role"] != "master":
                continue
            for key, stats in client.info("commandstats").items():
                name = key.removeprefix("cmdstat_").split("|")[0]
                if name in _REDIS_OWN:
                    continue
                commands += stats["calls"]
                if name in _REDIS_SCRIPTS:
                    scripts += stats["calls"]
        return commands, scripts

    def _bot_api(self) -> float:
        with urllib.request.urlopen(f"{self._stack.emulator_url}/control/stats", timeout=5) as r:
            return float(json.loads(r.read())["calls"])

    def read(self) -> Counts:
        """The cumulative counts now."""
        trips, inner = self._redis_counts()
        return Counts(self._grpc(), self._sql(), trips, inner, self._bot_api())

    def close(self) -> None:
        """Close the Redis connections."""
        for client in self._redis:
            client.close()
