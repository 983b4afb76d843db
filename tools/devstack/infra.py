"""Start, check and stop the real local infrastructure Veil runs against in dev and tests.

* PostgreSQL 15: a primary plus a streaming hot-standby replica, each on 127.0.0.1 only.
* Redis Cluster: 3 masters + 3 replicas (one ``redis-server`` per port).

Everything lives under a caller-chosen root folder (``<repo>/.veil/dev`` by default) and
uses non-standard ports, so the system Postgres (5432) and Redis (6379) are never touched.

This module is deliberately stdlib-only: it must work before the virtualenv has packages.

CLI::

    python -m tools.devstack.infra {start,stop,status,destroy} [--root DIR] [--pg-port N]
        [--pg-replica-port N] [--redis-ports a,b,c,d,e,f]
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "SERVICE_ROLES",
    "InfraConfig",
    "destroy",
    "ensure_binaries",
    "kill_redis_node",
    "main",
    "psql",
    "start",
    "start_postgres",
    "start_redis_cluster",
    "start_redis_node",
    "status",
    "stop",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
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


# --------------------------------------------------------------------------- configuration


def _cluster_bus_port(port: int) -> int:
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

    def __post_init__(self) -> None:
        # Servers and `runuser` run with another cwd, and Redis reports its `dir` resolved,
        # so normalise to an absolute, symlink-free path once.
        object.__setattr__(self, "root", Path(self.root).expanduser().resolve())
        object.__setattr__(self, "redis_ports", tuple(int(p) for p in self.redis_ports))
        ports = [
            self.pg_port,
            self.pg_replica_port,
            *self.redis_ports,
            *(_cluster_bus_port(p) for p in self.redis_ports),
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


def _pg_dir(cfg: InfraConfig) -> Path:
    return cfg.root / "pg"


def _primary_dir(cfg: InfraConfig) -> Path:
    return cfg.root / "pg" / "primary"


def _replica_dir(cfg: InfraConfig) -> Path:
    return cfg.root / "pg" / "replica"


def _logs_dir(cfg: InfraConfig) -> Path:
    return cfg.root / "logs"


def _primary_log(cfg: InfraConfig) -> Path:
    return cfg.root / "logs" / "pg-primary.log"


def _replica_log(cfg: InfraConfig) -> Path:
    return cfg.root / "logs" / "pg-replica.log"


def _socket_dir(cfg: InfraConfig) -> Path:
    """Private unix-socket folder, so we never use (or disturb) /var/run/postgresql."""
    preferred = cfg.root / "pg" / "run"
    longest = preferred / f".s.PGSQL.{max(cfg.pg_port, cfg.pg_replica_port)}.lock"
    if len(os.fsencode(longest)) <= _MAX_SOCKET_PATH:
        return preferred
    # Deep roots (e.g. pytest tmp_path) overflow sun_path and Postgres refuses to start;
    # fall back to a short per-root folder in /tmp.
    digest = hashlib.sha1(os.fsencode(cfg.root)).hexdigest()[:12]
    return Path("/tmp") / f"veil-pg-{digest}"


def _redis_root(cfg: InfraConfig) -> Path:
    return cfg.root / "redis"


def _redis_dir(cfg: InfraConfig, port: int) -> Path:
    return cfg.root / "redis" / str(port)


def _redis_conf(cfg: InfraConfig, port: int) -> Path:
    return _redis_dir(cfg, port) / "redis.conf"


def _redis_pidfile(cfg: InfraConfig, port: int) -> Path:
    return _redis_dir(cfg, port) / "redis.pid"


def _redis_log(cfg: InfraConfig, port: int) -> Path:
    return cfg.root / "logs" / f"redis-{port}.log"


# --------------------------------------------------------------------------- process helpers


def _say(msg: str) -> None:
    print(f"[devstack] {msg}", file=sys.stderr, flush=True)


def _is_root() -> bool:
    return os.geteuid() == 0


def _pg_os_ids() -> tuple[int, int]:
    try:
        entry = pwd.getpwnam(PG_OS_USER)
    except KeyError as exc:
        raise RuntimeError(
            f"running as root but there is no {PG_OS_USER!r} OS user to run Postgres as "
            "(install postgresql-15, which creates it)"
        ) from exc
    return entry.pw_uid, entry.pw_gid


def _as_pg_user(cmd: Sequence[str]) -> list[str]:
    """Wrap a server-side command so it runs as the postgres OS user when we are root."""
    if _is_root():
        return ["runuser", "-u", PG_OS_USER, "--", *cmd]
    return list(cmd)


def _chown_pg(path: Path) -> None:
    if _is_root():
        uid, gid = _pg_os_ids()
        os.chown(path, uid, gid)


def _env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    # Drop the caller's libpq variables (PGHOST, PGDATABASE, PGOPTIONS, PGDATA...): they would
    # silently redirect or alter our commands. LC_ALL=C keeps tool messages in plain English.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    if extra:
        env.update(extra)
    return env


def _tail(text: str, lines: int = 20) -> str:
    kept = text.strip().splitlines()[-lines:]
    return "\n".join(f"    {line}" for line in kept) if kept else "    (empty)"


def _file_tail(path: Path, lines: int = 30) -> str:
    try:
        return _tail(path.read_text(errors="replace"), lines)
    except OSError as exc:
        return f"    (cannot read: {exc})"


def _failure(
    cmd: Sequence[str], what: str, stdout: str, stderr: str, logs: Sequence[Path]
) -> RuntimeError:
    parts = [f"`{' '.join(str(c) for c in cmd)}` {what}"]
    if stderr.strip():
        parts.append(f"  stderr (tail):\n{_tail(stderr)}")
    if stdout.strip():
        parts.append(f"  stdout (tail):\n{_tail(stdout)}")
    for log in logs:
        parts.append(f"  log {log} (tail):\n{_file_tail(log)}")
    return RuntimeError("\n".join(parts))


def _text(data: str | bytes | None) -> str:
    # TimeoutExpired carries bytes even when text=True was requested.
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def _run(
    cmd: Sequence[str | Path],
    *,
    input: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 60.0,
    check: bool = True,
    logs: Sequence[Path] = (),
) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing output; raise a RuntimeError with context on failure.

    With ``check=False`` nothing raises for a non-zero exit or a timeout (reported as exit
    124, like timeout(1)): callers use that for probes, where "no answer" is an answer."""
    argv = [str(c) for c in cmd]
    try:
        proc = subprocess.run(
            argv,
            input=input,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=dict(env) if env is not None else _env(),
            cwd=cwd,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise RuntimeError(f"cannot run {argv[0]!r}: {exc}") from exc
    except subprocess.TimeoutExpired as exc:
        if not check:
            return subprocess.CompletedProcess(argv, 124, _text(exc.stdout), _text(exc.stderr))
        raise _failure(
            argv, f"timed out after {timeout:g}s", _text(exc.stdout), _text(exc.stderr), logs
        ) from exc
    if check and proc.returncode != 0:
        raise _failure(argv, f"failed (exit {proc.returncode})", proc.stdout, proc.stderr, logs)
    return proc


def _wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def _pid_alive(pid: int, name: str) -> bool:
    """True if ``pid`` runs a process whose command line mentions ``name`` (zombies count as
    dead: our PID 1 may never reap the daemons we orphan)."""
    proc = Path(f"/proc/{pid}")
    if not proc.parent.is_dir():  # no procfs: best effort
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        cmdline = (proc / "cmdline").read_bytes()
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X") and name.encode() in cmdline


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().splitlines()[0].strip())
    except (OSError, ValueError, IndexError):
        return None


def _port_open(port: int) -> bool:
    """Something accepts TCP connections on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _check_port_free(port: int, what: str, option: str) -> None:
    if _port_open(port):
        raise RuntimeError(
            f"cannot start {what} on 127.0.0.1:{port}: the port is already in use by another "
            f"process (pick other ports with {option})"
        )


def _mkdirs(path: Path) -> None:
    """mkdir -p, making every folder we create world-traversable (mode 0755) regardless of
    umask, because the postgres OS user has to walk through them."""
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        probe = probe.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process won the race
            folder.mkdir()
            folder.chmod(0o755)


def _ensure_pg_traversable(path: Path) -> None:
    """Let the postgres OS user reach ``path``: add o+x to ancestors that lack it (e.g. a
    0700 mkdtemp folder). Only execute is added - nothing becomes listable or readable."""
    if not _is_root():
        return
    pg_uid, _ = _pg_os_ids()
    for folder in [*reversed(path.parents), path]:
        st = folder.stat()
        if st.st_uid != pg_uid and not st.st_mode & stat.S_IXOTH:
            _say(f"chmod o+x {folder} so the postgres user can reach its data folder")
            folder.chmod(stat.S_IMODE(st.st_mode) | stat.S_IXOTH)


@contextlib.contextmanager
def _lock(cfg: InfraConfig, name: str) -> Iterator[None]:
    """Serialise start/stop/destroy across processes (e.g. parallel pytest workers)."""
    _mkdirs(cfg.root)
    with open(cfg.root / f".{name}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- binaries


def _redis_bin(name: str) -> str:
    found = shutil.which(name)
    if found is None and Path(f"/usr/bin/{name}").exists():
        found = f"/usr/bin/{name}"  # PATH may be minimal (e.g. under some test runners)
    if found is None:
        raise RuntimeError(f"{name} not found; run ensure_binaries() or `apt-get install {name}`")
    return found


def _psql_bin() -> Path:
    # The versioned binary is what /usr/bin/psql (Debian's perl pg_wrapper) ends up running;
    # calling it directly saves ~25 ms per call, which matters for the warm no-op path.
    direct = PG_BIN / "psql"
    return direct if direct.exists() else Path("/usr/bin/psql")


def _missing_packages() -> list[str]:
    packages: list[str] = []
    if any(not (PG_BIN / tool).exists() for tool in PG_TOOLS):
        packages.append("postgresql-15")
    if any(
        shutil.which(tool) is None and not Path(f"/usr/bin/{tool}").exists() for tool in REDIS_TOOLS
    ):
        packages += ["redis-server", "redis-tools"]
    return packages


def ensure_binaries() -> None:
    """Make sure the Postgres 15 and Redis binaries exist, installing them with apt-get
    (as root) if needed. Raises RuntimeError when they are missing and we are not root."""
    packages = _missing_packages()
    if packages:
        if not _is_root():
            command = f"sudo apt-get install -y {' '.join(packages)}"
            raise RuntimeError(f"missing binaries; install them first: {command}")
        _say(f"installing {' '.join(packages)} with apt-get (one-off)")
        env = _env({"DEBIAN_FRONTEND": "noninteractive"})
        _run(["apt-get", "update"], env=env, timeout=600)
        _run(["apt-get", "install", "-y", *packages], env=env, timeout=1200)
        still = _missing_packages()
        if still:
            raise RuntimeError(f"apt-get finished but binaries are still missing: {still}")
    if _is_root():
        if shutil.which("runuser") is None:
            raise RuntimeError("running as root needs `runuser` (util-linux) to drop to postgres")
        _pg_os_ids()


# --------------------------------------------------------------------------- postgres


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _postmaster_alive(datadir: Path) -> bool:
    """Our server for ``datadir`` is running (postmaster.pid points at a live postgres).

    Read directly instead of `pg_ctl status`: no subprocess, no `runuser` hop."""
    pid = _read_pid(datadir / "postmaster.pid")
    return pid is not None and _pid_alive(pid, "postgres")


def _pg_ready(port: int) -> bool:
    proc = _run(
        [PG_BIN / "pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port), "-t", "2"],
        check=False,
        timeout=10,
    )
    return proc.returncode == 0


def _pg_initialised(datadir: Path) -> bool:
    return (datadir / "PG_VERSION").is_file()


def _initdb_locale() -> str:
    # C.UTF-8 keeps collation byte-wise (fast, deterministic) while lower()/upper()/ILIKE
    # still understand non-ASCII text; plain C is the fallback on systems without it.
    proc = _run(["locale", "-a"], check=False, timeout=10)
    names = {line.strip().lower().replace("-", "") for line in proc.stdout.splitlines()}
    return "C.UTF-8" if "c.utf8" in names else "C"


def _write_pg_file(path: Path, text: str) -> None:
    path.write_text(text)
    _chown_pg(path)


def _write_pg_conf(cfg: InfraConfig, datadir: Path, port: int) -> None:
    """(Re)write our settings file and make sure postgresql.conf includes it.

    Rewritten on every (re)start so a changed port or socket folder takes effect."""
    sockdir = str(_socket_dir(cfg)).replace("'", "''")
    _write_pg_file(
        datadir / "veil.conf",
        f"""# Managed by tools/devstack/infra.py - rewritten on every start; edits are lost.
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{sockdir}'
max_connections = 200
shared_buffers = 128MB
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
hot_standby_feedback = on
# Throwaway local data: trade crash safety for speed.
fsync = off
synchronous_commit = off
full_page_writes = off
# With synchronous_commit=off the WAL writer decides when WAL is flushed (and therefore
# shipped to the replica); a short delay keeps replica lag in tests in the milliseconds.
wal_writer_delay = 10ms
log_line_prefix = '%m [%p] %q%u@%d '
{cfg.pg_settings}""",
    )
    main_conf = datadir / "postgresql.conf"
    include = "include_if_exists = 'veil.conf'"
    if include not in main_conf.read_text():
        with main_conf.open("a") as fh:
            fh.write(f"\n# Veil devstack settings (see veil.conf)\n{include}\n")


_PG_HBA = """# Managed by tools/devstack/infra.py
# TYPE  DATABASE     USER        ADDRESS         METHOD
local   all          all                         trust
local   replication  all                         trust
host    all          all         127.0.0.1/32    scram-sha-256
host    replication  replicator  127.0.0.1/32    scram-sha-256
"""


def _prepare_pg_dirs(cfg: InfraConfig) -> None:
    _mkdirs(cfg.root)
    _ensure_pg_traversable(cfg.root)
    for folder in (_pg_dir(cfg), _socket_dir(cfg)):
        _mkdirs(folder)
        _chown_pg(folder)
    _mkdirs(_logs_dir(cfg))
    for log in (_primary_log(cfg), _replica_log(cfg)):
        # pg_ctl appends to the log as the postgres user, so it must own the file.
        log.touch()
        _chown_pg(log)


def _pg_admin_sql(cfg: InfraConfig, port: int, sql: str, database: str = "postgres") -> str:
    """Run SQL as the bootstrap superuser over our private unix socket (trust auth)."""
    proc = _run(
        [
            _psql_bin(),
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            _socket_dir(cfg),
            "-p",
            str(port),
            "-U",
            PG_SUPERUSER,
            "-d",
            database,
            "-f",
            "-",
        ],
        input=sql,
        env=_env({"PGCLIENTENCODING": "UTF8", "PGCONNECT_TIMEOUT": "10"}),
        timeout=120,
    )
    return proc.stdout.rstrip("\n")


def _pg_ctl_start(cfg: InfraConfig, datadir: Path, port: int, log: Path) -> None:
    _check_port_free(port, "Postgres", "--pg-port/--pg-replica-port")
    _run(
        _as_pg_user(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(datadir),
                "-l",
                str(log),
                "-w",
                "-t",
                "60",
                "-s",
                "start",
            ]
        ),
        cwd=_pg_dir(cfg),
        timeout=90,
        logs=[log],
    )


def _pg_ctl_stop(cfg: InfraConfig, datadir: Path, log: Path) -> None:
    if not _postmaster_alive(datadir):
        return
    _run(
        _as_pg_user(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(datadir),
                "-m",
                "fast",
                "-w",
                "-t",
                "60",
                "-s",
                "stop",
            ]
        ),
        cwd=_pg_dir(cfg),
        timeout=90,
        logs=[log],
    )


def _ensure_running(cfg: InfraConfig, datadir: Path, port: int, log: Path, what: str) -> bool:
    """If our server for ``datadir`` runs, wait until it accepts connections and return True."""
    if not _postmaster_alive(datadir):
        return False
    # Running but not (yet) ready: it may still be starting up or recovering.
    if not _wait_until(lambda: _pg_ready(port), timeout=60, interval=0.2):
        raise RuntimeError(
            f"{what} in {datadir} is running but 127.0.0.1:{port} does not accept connections "
            f"(wrong port in its config?)\n  log {log} (tail):\n{_file_tail(log)}"
        )
    return True


def _ensure_primary(cfg: InfraConfig) -> bool:
    """Start (initialising if needed) the primary; True if it was freshly initialised."""
    datadir, log = _primary_dir(cfg), _primary_log(cfg)
    if _ensure_running(cfg, datadir, cfg.pg_port, log, "pg primary"):
        return False
    # Before a possibly slow initdb, so a port clash fails fast.
    _check_port_free(cfg.pg_port, "Postgres", "--pg-port")
    fresh = not _pg_initialised(datadir)
    if fresh:
        if datadir.exists():  # leftovers of an interrupted initdb
            shutil.rmtree(datadir)
        _say(f"pg: initdb {datadir}")
        _run(
            _as_pg_user(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(datadir),
                    "-U",
                    PG_SUPERUSER,
                    "-E",
                    "UTF8",
                    f"--locale={_initdb_locale()}",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--no-sync",
                    "--no-instructions",
                ]
            ),
            cwd=_pg_dir(cfg),
            timeout=180,
        )
        _write_pg_file(datadir / "pg_hba.conf", _PG_HBA)
    _write_pg_conf(cfg, datadir, cfg.pg_port)
    _say(f"pg: starting primary on 127.0.0.1:{cfg.pg_port}")
    _pg_ctl_start(cfg, datadir, cfg.pg_port, log)
    return fresh


def _bootstrap_sql(cfg: InfraConfig) -> str:
    """Idempotent SQL creating roles, the database and the per-service schemas."""
    roles: list[tuple[str, str]] = [
        (ADMIN_ROLE, "SUPERUSER"),
        (REPLICATION_ROLE, "NOSUPERUSER NOCREATEDB NOCREATEROLE REPLICATION"),
        *(
            (role, "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION")
            for role in SERVICE_ROLES.values()
        ),
    ]
    lines = ["SET client_min_messages = warning;"]
    for role, attrs in roles:
        lines += [
            "DO $$ BEGIN",
            f"  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {_quote_literal(role)}) THEN",
            f"    CREATE ROLE {_quote_ident(role)};",
            "  END IF;",
            "END $$;",
            # Local-only credentials: the password is the role name.
            f"ALTER ROLE {_quote_ident(role)} WITH LOGIN {attrs} PASSWORD {_quote_literal(role)};",
        ]
    for schema, role in SERVICE_ROLES.items():
        lines.append(f"ALTER ROLE {_quote_ident(role)} SET search_path TO {_quote_ident(schema)};")
    db = cfg.database
    lines += [
        f"SELECT 'CREATE DATABASE {_quote_ident(db)}' "
        f"WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = {_quote_literal(db)})\\gexec",
        f"\\connect {db}",
        "SET client_min_messages = warning;",
        # PG15 already defaults to this; kept explicit so nothing can create in public.
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC;",
    ]
    for schema, role in SERVICE_ROLES.items():
        others = [r for r in SERVICE_ROLES.values() if r != role]
        s_id, r_id = _quote_ident(schema), _quote_ident(role)
        lines += [
            f"CREATE SCHEMA IF NOT EXISTS {s_id} AUTHORIZATION {r_id};",
            f"ALTER SCHEMA {s_id} OWNER TO {r_id};",
            # Each service sees only its own schema.
            f"REVOKE ALL ON SCHEMA {s_id} FROM PUBLIC, "
            + ", ".join(_quote_ident(r) for r in others)
            + ";",
        ]
    return "\n".join(lines) + "\n"


def _ensure_replica(cfg: InfraConfig, rebuild: bool) -> None:
    datadir, log = _replica_dir(cfg), _replica_log(cfg)
    if rebuild and datadir.exists():
        # A replica of a previous primary has another system identifier: useless now.
        _say("pg: primary was re-initialised; discarding the old replica")
        _pg_ctl_stop(cfg, datadir, log)
        shutil.rmtree(datadir)
    if _ensure_running(cfg, datadir, cfg.pg_replica_port, log, "pg replica"):
        return
    if not (_pg_initialised(datadir) and (datadir / "standby.signal").is_file()):
        if datadir.exists():  # leftovers of an interrupted base backup
            shutil.rmtree(datadir)
        # A slot left by an earlier replica would make `-C` fail; it is inactive now.
        _pg_admin_sql(
            cfg,
            cfg.pg_port,
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
            f"WHERE slot_name = {_quote_literal(REPLICATION_SLOT)} AND NOT active;",
        )
        _say(f"pg: pg_basebackup into {datadir}")
        _run(
            _as_pg_user(
                [
                    str(PG_BIN / "pg_basebackup"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(cfg.pg_port),
                    "-U",
                    REPLICATION_ROLE,
                    "-D",
                    str(datadir),
                    "-R",
                    "-X",
                    "stream",
                    # The slot keeps the primary's WAL until the replica has it, so a stopped
                    # replica can always catch up; fast checkpoint avoids a spread checkpoint wait.
                    "-C",
                    "-S",
                    REPLICATION_SLOT,
                    "--checkpoint=fast",
                    "--no-sync",
                ]
            ),
            env=_env({"PGPASSWORD": REPLICATION_ROLE, "PGAPPNAME": "veil_replica"}),
            cwd=_pg_dir(cfg),
            timeout=300,
            logs=[_primary_log(cfg)],
        )
    _write_pg_conf(cfg, datadir, cfg.pg_replica_port)
    _say(f"pg: starting replica on 127.0.0.1:{cfg.pg_replica_port}")
    _pg_ctl_start(cfg, datadir, cfg.pg_replica_port, log)


def _wait_replica_streaming(cfg: InfraConfig, timeout: float = 60.0) -> None:
    query = (
        "SELECT pg_is_in_recovery()::text || '|' || "
        "coalesce((SELECT status FROM pg_stat_wal_receiver), 'none');"
    )
    last = ""

    def streaming() -> bool:
        nonlocal last
        last = _pg_admin_sql(cfg, cfg.pg_replica_port, query)
        return last == "true|streaming"

    if not _wait_until(streaming, timeout=timeout, interval=0.1):
        raise RuntimeError(
            f"pg replica on {cfg.pg_replica_port} is not streaming after {timeout:g}s "
            f"(in_recovery|wal_receiver = {last!r})\n"
            f"  log {_replica_log(cfg)} (tail):\n{_file_tail(_replica_log(cfg))}\n"
            f"  log {_primary_log(cfg)} (tail):\n{_file_tail(_primary_log(cfg))}"
        )


def _missing_pg_tools() -> list[str]:
    return [tool for tool in PG_TOOLS if not (PG_BIN / tool).exists()]


def start_postgres(cfg: InfraConfig) -> None:
    """Start the Postgres primary and its streaming replica, creating them if needed.

    Idempotent: running servers are left alone, stopped ones are restarted from their data,
    and roles/database/schemas are (re)asserted every time. Returns once both servers accept
    connections and the replica is in recovery and streaming from the primary."""
    if missing := _missing_pg_tools():
        raise RuntimeError(
            f"Postgres 15 binaries missing in {PG_BIN}: {missing}; run ensure_binaries()"
        )
    with _lock(cfg, "pg"):
        _prepare_pg_dirs(cfg)
        fresh = _ensure_primary(cfg)
        # Roles (incl. replicator) must exist before the base backup.
        _pg_admin_sql(cfg, cfg.pg_port, _bootstrap_sql(cfg))
        _ensure_replica(cfg, rebuild=fresh)
        _wait_replica_streaming(cfg)


def stop_replica(cfg: InfraConfig) -> None:
    """Stop the read replica only (the failure-table test of a replica that is down)."""
    with _lock(cfg, "pg"):
        _pg_ctl_stop(cfg, _replica_dir(cfg), _replica_log(cfg))


def start_replica(cfg: InfraConfig) -> None:
    """Start the stopped replica again and wait until it streams."""
    with _lock(cfg, "pg"):
        _ensure_replica(cfg, rebuild=False)
        _wait_replica_streaming(cfg)


def stop_primary(cfg: InfraConfig) -> None:
    """Stop the Postgres primary only (fast shutdown); :func:`start_postgres` starts it again."""
    with _lock(cfg, "pg"):
        _pg_ctl_stop(cfg, _primary_dir(cfg), _primary_log(cfg))


def _stop_postgres(cfg: InfraConfig) -> None:
    # Replica first, so it does not spend the primary's shutdown retrying its connection.
    for datadir, log, what in (
        (_replica_dir(cfg), _replica_log(cfg), "replica"),
        (_primary_dir(cfg), _primary_log(cfg), "primary"),
    ):
        if _postmaster_alive(datadir):
            _say(f"pg: stopping {what}")
            _pg_ctl_stop(cfg, datadir, log)


def psql(
    cfg: InfraConfig,
    sql: str,
    *,
    replica: bool = False,
    role: str = ADMIN_ROLE,
    timeout: float = 60.0,
) -> str:
    """Run ``sql`` (one or more statements) as ``role`` over TCP and return psql's
    unaligned, tuples-only output (``-At``) without the trailing newline.

    Stops at the first error and raises RuntimeError carrying psql's error message."""
    port = cfg.pg_replica_port if replica else cfg.pg_port
    proc = _run(
        [
            _psql_bin(),
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            role,
            "-d",
            cfg.database,
            "-f",
            "-",
        ],
        input=sql,
        env=_env({"PGPASSWORD": role, "PGCLIENTENCODING": "UTF8", "PGCONNECT_TIMEOUT": "10"}),
        timeout=timeout,
    )
    return proc.stdout.rstrip("\n")


# --------------------------------------------------------------------------- redis


def _redis_cli(port: int, *args: str, timeout: float = 10.0) -> subprocess.CompletedProcess[str]:
    return _run(
        [_redis_bin("redis-cli"), "-h", "127.0.0.1", "-p", str(port), *args],
        check=False,
        timeout=timeout,
    )


def _redis_ping(port: int) -> bool:
    proc = _redis_cli(port, "ping", timeout=2)
    return proc.returncode == 0 and proc.stdout.strip() == "PONG"


def _redis_is_ours(cfg: InfraConfig, port: int) -> bool:
    """The server on ``port`` is our node (its working dir is our node folder)."""
    lines = _redis_cli(port, "config", "get", "dir", timeout=5).stdout.split()
    return len(lines) == 2 and lines[1] == str(_redis_dir(cfg, port))


def _cluster_info(port: int) -> dict[str, str] | None:
    proc = _redis_cli(port, "cluster", "info", timeout=5)
    if proc.returncode != 0 or "cluster_state:" not in proc.stdout:
        return None
    info: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        key, sep, value = line.strip().partition(":")
        if sep:
            info[key] = value
    return info


def _node_view_ok(cfg: InfraConfig, port: int) -> bool:
    """``port``'s own view: healthy, all slots served, all our nodes known and connected,
    half of them masters with slots, none flagged as (possibly) failing."""
    info = _cluster_info(port)
    if info is None or not (
        info.get("cluster_state") == "ok"
        and info.get("cluster_slots_assigned") == str(REDIS_SLOTS)
        and info.get("cluster_slots_ok") == str(REDIS_SLOTS)
        and info.get("cluster_known_nodes") == str(len(cfg.redis_ports))
    ):
        return False
    nodes = _redis_cli(port, "cluster", "nodes", timeout=5)
    if nodes.returncode != 0:
        return False
    masters = 0
    for line in nodes.stdout.splitlines():
        fields = line.split()
        if len(fields) < 8:
            continue
        flags = fields[2].split(",")
        if "fail" in flags or "fail?" in flags or fields[7] != "connected":
            return False
        if "master" in flags and len(fields) > 8:  # fields[8:] are the slot ranges
            masters += 1
    return masters == len(cfg.redis_ports) // 2


def _redis_cluster_ok(cfg: InfraConfig) -> bool:
    """Every node is up and every node's view of the cluster is healthy (checked on all of
    them: right after a failover or restart, views converge at different moments)."""
    return all(_node_view_ok(cfg, port) for port in cfg.redis_ports)


def _write_redis_conf(cfg: InfraConfig, port: int) -> None:
    node_dir = _redis_dir(cfg, port)
    _mkdirs(node_dir)
    _redis_conf(cfg, port).write_text(
        f"""# Managed by tools/devstack/infra.py - rewritten on every start; edits are lost.
port {port}
bind 127.0.0.1
protected-mode no
daemonize yes
pidfile "{_redis_pidfile(cfg, port)}"
logfile "{_redis_log(cfg, port)}"
dir "{node_dir}"
cluster-enabled yes
cluster-config-file "{node_dir / "nodes.conf"}"
# Short timeout = failover within a few seconds in tests.
cluster-port {_cluster_bus_port(port)}
cluster-node-timeout 2000
# Let a replica always take over, however stale: test data is disposable, availability is not.
cluster-replica-validity-factor 0
# Throwaway local data: no persistence at all.
appendonly no
save ""
"""
    )


def _redis_pid(cfg: InfraConfig, port: int) -> int | None:
    pid = _read_pid(_redis_pidfile(cfg, port))
    return pid if pid is not None and _pid_alive(pid, "redis") else None


def _launch_redis_node(cfg: InfraConfig, port: int) -> None:
    _check_port_free(port, "Redis node", "--redis-ports")
    _mkdirs(_logs_dir(cfg))
    _write_redis_conf(cfg, port)
    # daemonize=yes: returns as soon as the server has forked into the background.
    _run(
        [_redis_bin("redis-server"), _redis_conf(cfg, port)],
        cwd=_redis_dir(cfg, port),
        timeout=30,
        logs=[_redis_log(cfg, port)],
    )


def _wait_redis_up(cfg: InfraConfig, ports: Sequence[int], timeout: float = 20.0) -> None:
    pending = list(ports)
    exited: list[int] = []
    launched = time.monotonic()

    def settled() -> bool:
        pending[:] = [p for p in pending if not _redis_ping(p)]
        # A node whose process is gone (bad config, port clash...) will never answer: fail
        # fast instead of waiting out the timeout. The grace period covers the daemon's fork.
        if pending and time.monotonic() - launched > 1.0:
            exited[:] = [p for p in pending if _redis_pid(cfg, p) is None]
        return not pending or bool(exited)

    if not _wait_until(settled, timeout=timeout, interval=0.05) or exited:
        failed = exited or pending
        what = "exited during startup" if exited else f"did not answer PING within {timeout:g}s"
        details = "\n".join(
            f"  log {_redis_log(cfg, p)} (tail):\n{_file_tail(_redis_log(cfg, p), 8)}"
            for p in failed
        )
        raise RuntimeError(f"Redis nodes {failed} {what}\n{details}")


def _start_redis_nodes(cfg: InfraConfig) -> list[int]:
    """Start every node that is not running; return the ports that were (re)started."""
    to_start: list[int] = []
    # Check every port before launching anything, so a clash fails fast and leaves no
    # half-started cluster behind.
    for port in cfg.redis_ports:
        if _redis_ping(port):
            if not _redis_is_ours(cfg, port):
                raise RuntimeError(
                    f"127.0.0.1:{port} is served by a Redis that is not ours (its dir is not "
                    f"{_redis_dir(cfg, port)}); pick other ports with --redis-ports"
                )
            continue
        pid = _redis_pid(cfg, port)
        if pid is not None:
            # Alive but not answering: hung or still loading; not worth waiting for.
            _say(f"redis: node {port} (pid {pid}) is unresponsive; killing it")
            _kill_pid(pid, "redis")
        _check_port_free(port, "Redis node", "--redis-ports")
        to_start.append(port)
    for port in to_start:
        _launch_redis_node(cfg, port)
    if to_start:
        _say(f"redis: started nodes {to_start}")
        _wait_redis_up(cfg, to_start)
    return to_start


def _wait_pid_gone(pid: int, name: str, timeout: float) -> bool:
    return _wait_until(lambda: not _pid_alive(pid, name), timeout=timeout, interval=0.02)


def _kill_pid(pid: int, name: str, sig: int = signal.SIGKILL, timeout: float = 10.0) -> bool:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    return _wait_pid_gone(pid, name, timeout)


def _stop_redis(cfg: InfraConfig) -> None:
    if not _redis_root(cfg).exists():
        return
    pids: dict[int, int] = {}
    for port in cfg.redis_ports:
        pid = _redis_pid(cfg, port)
        if _redis_ping(port):
            if not _redis_is_ours(cfg, port):
                _say(f"redis: {port} is not our node; leaving it alone")
                continue
            # NOW: do not wait for lagging replicas; the data is disposable anyway.
            _redis_cli(port, "shutdown", "nosave", "now", timeout=10)
        if pid is not None:
            pids[port] = pid
    if pids:
        _say(f"redis: stopping nodes {sorted(pids)}")
    for port, pid in pids.items():
        if not _wait_pid_gone(pid, "redis", timeout=10):
            _say(f"redis: node {port} ignored SHUTDOWN; killing pid {pid}")
            _kill_pid(pid, "redis")
        _redis_pidfile(cfg, port).unlink(missing_ok=True)


def _cluster_is_fresh(cfg: InfraConfig) -> bool | None:
    """True: no node has joined a cluster yet. False: all have. None: a mix (broken)."""
    fresh = []
    for port in cfg.redis_ports:
        info = _cluster_info(port)
        if info is None:
            return None
        fresh.append(
            info.get("cluster_known_nodes") == "1" and info.get("cluster_slots_assigned") == "0"
        )
    if all(fresh):
        return True
    return False if not any(fresh) else None


def start_redis_cluster(cfg: InfraConfig) -> None:
    """Start the Redis Cluster (masters + one replica each), forming it if needed.

    Idempotent: a healthy running cluster is left alone; stopped nodes are restarted and the
    cluster re-forms from their nodes.conf; a cluster that cannot become healthy is wiped and
    recreated. Returns once every node reports cluster_state:ok with all slots assigned."""
    for tool in REDIS_TOOLS:
        _redis_bin(tool)
    with _lock(cfg, "redis"):
        for attempt in (1, 2):
            started = _start_redis_nodes(cfg)
            if not started and _redis_cluster_ok(cfg):
                return
            fresh = _cluster_is_fresh(cfg)
            if fresh:
                ports = [f"127.0.0.1:{p}" for p in cfg.redis_ports]
                _say(f"redis: creating cluster over {len(ports)} nodes")
                _run(
                    [
                        _redis_bin("redis-cli"),
                        "--cluster",
                        "create",
                        *ports,
                        "--cluster-replicas",
                        "1",
                        "--cluster-yes",
                    ],
                    timeout=120,
                    logs=[_redis_log(cfg, p) for p in cfg.redis_ports[:1]],
                )
            if fresh is not None and _wait_until(
                lambda: _redis_cluster_ok(cfg), timeout=30, interval=0.1
            ):
                _say("redis: cluster ok")
                return
            if attempt == 2:
                raise RuntimeError(
                    "Redis cluster did not become healthy even after a rebuild; node states:\n"
                    + "\n".join(f"  {p}: {_cluster_info(p)}" for p in cfg.redis_ports)
                    + f"\n  log {_redis_log(cfg, cfg.redis_ports[0])} (tail):\n"
                    + _file_tail(_redis_log(cfg, cfg.redis_ports[0]))
                )
            _say("redis: cluster is broken; wiping its data and recreating it")
            _stop_redis(cfg)
            shutil.rmtree(_redis_root(cfg), ignore_errors=True)


def kill_redis_node(cfg: InfraConfig, port: int) -> None:
    """SIGKILL one cluster node (for failover tests). No-op if it is not running."""
    if port not in cfg.redis_ports:
        raise ValueError(f"{port} is not one of this config's redis ports {cfg.redis_ports}")
    pid = _redis_pid(cfg, port)
    if pid is None:
        _say(f"redis: node {port} is not running")
        return
    if not _kill_pid(pid, "redis"):
        raise RuntimeError(f"redis node {port} (pid {pid}) survived SIGKILL")
    # A SIGKILLed daemon cannot remove its pidfile; a stale one could name a reused pid.
    _redis_pidfile(cfg, port).unlink(missing_ok=True)


def start_redis_node(cfg: InfraConfig, port: int) -> None:
    """(Re)start one cluster node from its nodes.conf and wait until it answers PING.

    Does not wait for the cluster to converge; poll ``status`` for that."""
    if port not in cfg.redis_ports:
        raise ValueError(f"{port} is not one of this config's redis ports {cfg.redis_ports}")
    if _redis_ping(port):
        return
    _launch_redis_node(cfg, port)
    _wait_redis_up(cfg, [port])


# --------------------------------------------------------------------------- whole stack


def start(cfg: InfraConfig) -> None:
    """Install binaries if needed, then start Postgres and Redis (concurrently)."""
    ensure_binaries()
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="devstack") as pool:
        futures = [pool.submit(start_postgres, cfg), pool.submit(start_redis_cluster, cfg)]
        errors = [exc for f in futures if (exc := f.exception()) is not None]
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise RuntimeError("\n\n".join(str(e) for e in errors))


def stop(cfg: InfraConfig) -> None:
    """Stop the replica, the primary and every Redis node; never fails if already stopped."""
    if not cfg.root.exists():
        return
    with _lock(cfg, "pg"), _lock(cfg, "redis"):
        _stop_postgres(cfg)
        _stop_redis(cfg)


def status(cfg: InfraConfig) -> dict[str, bool]:
    """Health of each component: ``{"pg_primary", "pg_replica", "redis_cluster"}``."""
    return {
        "pg_primary": _postmaster_alive(_primary_dir(cfg)) and _pg_ready(cfg.pg_port),
        "pg_replica": _postmaster_alive(_replica_dir(cfg)) and _pg_ready(cfg.pg_replica_port),
        "redis_cluster": _redis_cluster_ok(cfg),
    }


def destroy(cfg: InfraConfig) -> None:
    """Stop everything and delete all data and logs under ``cfg.root``."""
    if not cfg.root.exists():
        return
    with _lock(cfg, "pg"), _lock(cfg, "redis"):
        _stop_postgres(cfg)
        _stop_redis(cfg)
        _say(f"removing data under {cfg.root}")
        for folder in (_pg_dir(cfg), _redis_root(cfg), _logs_dir(cfg), _socket_dir(cfg)):
            shutil.rmtree(folder, ignore_errors=True)
        for name in ("pg", "redis"):
            (cfg.root / f".{name}.lock").unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # only if nothing else lives there
        cfg.root.rmdir()


# --------------------------------------------------------------------------- CLI


def _ports(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated ports, got {text!r}") from exc


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.devstack.infra",
        description="Start/stop local Postgres (primary + replica) and a Redis Cluster.",
    )
    parser.add_argument("command", choices=("start", "stop", "status", "destroy"))
    parser.add_argument(
        "--root", type=Path, default=DEFAULT_ROOT, help=f"state folder (default: {DEFAULT_ROOT})"
    )
    parser.add_argument("--pg-port", type=int, default=DEFAULT_PG_PORT)
    parser.add_argument("--pg-replica-port", type=int, default=DEFAULT_PG_REPLICA_PORT)
    parser.add_argument(
        "--redis-ports",
        type=_ports,
        default=DEFAULT_REDIS_PORTS,
        help="comma-separated, e.g. 57001,57002,57003,57004,57005,57006",
    )
    args = parser.parse_args(argv)
    try:
        cfg = InfraConfig(
            root=args.root,
            pg_port=args.pg_port,
            pg_replica_port=args.pg_replica_port,
            redis_ports=args.redis_ports,
        )
    except ValueError as exc:
        parser.error(str(exc))
    try:
        if args.command == "start":
            began = time.monotonic()
            start(cfg)
            _say(f"ready in {time.monotonic() - began:.1f}s")
            _say(f"  postgres primary  {cfg.pg_dsn('<role>', driver='postgresql')}")
            _say(f"  postgres replica  {cfg.pg_dsn('<role>', replica=True, driver='postgresql')}")
            _say(f"  redis cluster     {cfg.redis_nodes()}")
        elif args.command == "stop":
            stop(cfg)
        elif args.command == "destroy":
            destroy(cfg)
        else:
            state = status(cfg)
            print(json.dumps(state))
            return 0 if all(state.values()) else 1
    except RuntimeError as exc:
        print(f"[devstack] error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
