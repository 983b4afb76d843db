"""Where the local infrastructure lives: ports, roles, folders (stdlib-only, like the
rest of :mod:`tools.devstack.infra`: it must work before the virtualenv has packages)."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_ROOT = REPO_ROOT / ".veil" / "dev"
DEFAULT_PG_PORT = 55432
DEFAULT_PG_REPLICA_PORT = 55433
DEFAULT_REDIS_PORTS: tuple[int, ...] = (57001, 57002, 57003, 57004, 57005, 57006)

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_TOOLS = ("initdb", "pg_ctl", "postgres", "pg_basebackup", "pg_isready", "psql")
REDIS_TOOLS = ("redis-server", "redis-cli")

#: OS account that owns the data folders when we run as root (initdb/postgres refuse root).
PG_OS_USER = "postgres"
#: Bootstrap superuser made by initdb; only reachable through our private unix socket (trust).
PG_SUPERUSER = "postgres"
ADMIN_ROLE = "veil_admin"
REPLICATION_ROLE = "replicator"
REPLICATION_SLOT = "veil_replica"

#: service name -> Postgres role; each role owns the schema named after its service.
SERVICE_ROLES: dict[str, str] = {
    "confessions": "veil_confessions",
    "social": "veil_social",
    "notifier": "veil_notifier",
}

REDIS_SLOTS = 16384
# A unix socket path must fit in sockaddr_un.sun_path (108 bytes incl. NUL on Linux).
_MAX_SOCKET_PATH = 100
_IDENT_RE = re.compile(r"^[a-z_][a-z0-9_]*$")


def cluster_bus_port(port: int) -> int:
    """Port of a node's cluster bus (node-to-node gossip).

    Redis defaults to port + 10000, which overflows for ports above 55535 (make up's are
    57001+) and lands in the kernel's ephemeral range (32768-60999) for the suite's
    27101+, where an outgoing connection may hold it. So every node above 11024 gets
    port - 10000 via the `cluster-port` setting."""
    return port - 10000 if port > 11024 else port + 10000


@dataclass(frozen=True)
class InfraConfig:
    """Where the local infrastructure lives and which ports it listens on."""

    root: Path
    pg_port: int = DEFAULT_PG_PORT
    pg_replica_port: int = DEFAULT_PG_REPLICA_PORT
    redis_ports: tuple[int, ...] = DEFAULT_REDIS_PORTS
    database: str = "veil"
    #: Extra postgresql.conf lines (the bench preloads pg_stat_statements).
    pg_settings: str = ""

    @classmethod
    def shifted(cls, root: Path, shift: int, *, pg_settings: str = "") -> InfraConfig:
        """The suite's ports (Postgres 26432/26433, Redis 27101–27106, below the
        kernel's ephemeral range) moved up by ``shift`` plus VEIL_TEST_PORT_OFFSET:
        the suite 0, ``make bench`` 200, ``tools.bench.rpc_cpu`` 300, ``make chaos``
        400, so that none of them, nor another checkout's with its own offset,
        takes another's ports."""
        base = shift + int(os.environ.get("VEIL_TEST_PORT_OFFSET", "0"))
        return cls(
            root=root,
            pg_port=26432 + base,
            pg_replica_port=26433 + base,
            redis_ports=tuple(27101 + base + i for i in range(6)),
            pg_settings=pg_settings,
        )

    def __post_init__(self) -> None:
        # Servers and `runuser` run with another cwd, and Redis reports its `dir` resolved,
        # so normalise to an absolute, symlink-free path once.
        object.__setattr__(self, "root", Path(self.root).expanduser().resolve())
        object.__setattr__(self, "redis_ports", tuple(int(p) for p in self.redis_ports))
        ports = [
            self.pg_port,
            self.pg_replica_port,
            *self.redis_ports,
            *(cluster_bus_port(p) for p in self.redis_ports),
        ]
        if len(set(ports)) != len(ports):
            raise ValueError(f"ports (incl. Redis cluster-bus ports) must be distinct: {ports}")
        if any(not 1024 <= p <= 65535 for p in ports):
            raise ValueError(f"ports must be in 1024..65535: {ports}")
        if {5432, 6379} & set(ports):
            raise ValueError("ports 5432/6379 belong to the system Postgres/Redis")
        # `--cluster-replicas 1` needs at least 3 masters, each with exactly one replica.
        if len(self.redis_ports) < 6 or len(self.redis_ports) % 2:
            raise ValueError("redis_ports needs an even number (>= 6) of ports")
        if not _IDENT_RE.match(self.database):
            raise ValueError(f"database name must match {_IDENT_RE.pattern}: {self.database!r}")

    def pg_dsn(self, role: str, replica: bool = False, driver: str = "postgresql+asyncpg") -> str:
        """DSN for ``role`` (password = role name) on the primary or the replica."""
        port = self.pg_replica_port if replica else self.pg_port
        return f"{driver}://{role}:{role}@127.0.0.1:{port}/{self.database}"

    def redis_nodes(self) -> str:
        """Comma-separated ``host:port`` startup nodes for a cluster client (all nodes)."""
        return ",".join(f"127.0.0.1:{port}" for port in self.redis_ports)


# --------------------------------------------------------------------------- layout


def pg_dir(cfg: InfraConfig) -> Path:
    """Folder of both Postgres servers' data."""
    return cfg.root / "pg"


def primary_dir(cfg: InfraConfig) -> Path:
    """Data folder of the primary."""
    return cfg.root / "pg" / "primary"


def replica_dir(cfg: InfraConfig) -> Path:
    """Data folder of the replica."""
    return cfg.root / "pg" / "replica"


def logs_dir(cfg: InfraConfig) -> Path:
    """Folder of every server's log."""
    return cfg.root / "logs"


def primary_log(cfg: InfraConfig) -> Path:
    """The primary's log."""
    return cfg.root / "logs" / "pg-primary.log"


def replica_log(cfg: InfraConfig) -> Path:
    """The replica's log."""
    return cfg.root / "logs" / "pg-replica.log"


def socket_dir(cfg: InfraConfig) -> Path:
    """Private unix-socket folder, so we never use (or disturb) /var/run/postgresql."""
    preferred = cfg.root / "pg" / "run"
    longest = preferred / f".s.PGSQL.{max(cfg.pg_port, cfg.pg_replica_port)}.lock"
    if len(os.fsencode(longest)) <= _MAX_SOCKET_PATH:
        return preferred
    # Deep roots (e.g. pytest tmp_path) overflow sun_path and Postgres refuses to start;
    # fall back to a short per-root folder in /tmp.
    digest = hashlib.sha1(os.fsencode(cfg.root)).hexdigest()[:12]
    return Path("/tmp") / f"veil-pg-{digest}"


def redis_root(cfg: InfraConfig) -> Path:
    """Folder of every Redis node's data."""
    return cfg.root / "redis"


def redis_dir(cfg: InfraConfig, port: int) -> Path:
    """Working folder of the Redis node on ``port``."""
    return cfg.root / "redis" / str(port)


def redis_conf(cfg: InfraConfig, port: int) -> Path:
    """Config file of the Redis node on ``port``."""
    return redis_dir(cfg, port) / "redis.conf"


def redis_pidfile(cfg: InfraConfig, port: int) -> Path:
    """Pidfile of the Redis node on ``port``."""
    return redis_dir(cfg, port) / "redis.pid"


def redis_log(cfg: InfraConfig, port: int) -> Path:
    """Log of the Redis node on ``port``."""
    return cfg.root / "logs" / f"redis-{port}.log"
