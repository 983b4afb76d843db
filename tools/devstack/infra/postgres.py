"""The local PostgreSQL 15: a primary plus a streaming hot-standby replica, each on
127.0.0.1 only, under ``<root>/pg``."""

from __future__ import annotations

import shutil
from pathlib import Path

from tools.devstack.infra.config import (
    PG_BIN,
    PG_SUPERUSER,
    PG_TOOLS,
    REPLICATION_ROLE,
    REPLICATION_SLOT,
    InfraConfig,
    logs_dir,
    pg_dir,
    primary_dir,
    primary_log,
    replica_dir,
    replica_log,
    socket_dir,
)
from tools.devstack.infra.postgres_sql import admin_sql, bootstrap_sql, quote_literal
from tools.devstack.infra.processes import (
    as_pg_user,
    check_port_free,
    chown_pg,
    clean_env,
    ensure_pg_traversable,
    file_tail,
    lock,
    mkdirs,
    pid_alive,
    read_pid,
    run,
    say,
    wait_until,
)


def postmaster_alive(datadir: Path) -> bool:
    """Our server for ``datadir`` is running (postmaster.pid points at a live postgres).

    Read directly instead of `pg_ctl status`: no subprocess, no `runuser` hop."""
    pid = read_pid(datadir / "postmaster.pid")
    return pid is not None and pid_alive(pid, "postgres")


def pg_ready(port: int) -> bool:
    """The server on ``port`` accepts connections (``pg_isready``)."""
    proc = run(
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
    proc = run(["locale", "-a"], check=False, timeout=10)
    names = {line.strip().lower().replace("-", "") for line in proc.stdout.splitlines()}
    return "C.UTF-8" if "c.utf8" in names else "C"


def _write_pg_file(path: Path, text: str) -> None:
    path.write_text(text)
    chown_pg(path)


def _write_pg_conf(cfg: InfraConfig, datadir: Path, port: int) -> None:
    """(Re)write our settings file and make sure postgresql.conf includes it.

    Rewritten on every (re)start so a changed port or socket folder takes effect."""
    sockdir = str(socket_dir(cfg)).replace("'", "''")
    _write_pg_file(
        datadir / "veil.conf",
        f"""# Managed by tools/devstack/infra/ - rewritten on every start; edits are lost.
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


_PG_HBA = """# Managed by tools/devstack/infra/
# TYPE  DATABASE     USER        ADDRESS         METHOD
local   all          all                         trust
local   replication  all                         trust
host    all          all         127.0.0.1/32    scram-sha-256
host    replication  replicator  127.0.0.1/32    scram-sha-256
"""


def _prepare_pg_dirs(cfg: InfraConfig) -> None:
    mkdirs(cfg.root)
    ensure_pg_traversable(cfg.root)
    for folder in (pg_dir(cfg), socket_dir(cfg)):
        mkdirs(folder)
        chown_pg(folder)
    mkdirs(logs_dir(cfg))
    for log in (primary_log(cfg), replica_log(cfg)):
        # pg_ctl appends to the log as the postgres user, so it must own the file.
        log.touch()
        chown_pg(log)


def _pg_ctl_start(cfg: InfraConfig, datadir: Path, port: int, log: Path) -> None:
    check_port_free(port, "Postgres", "--pg-port/--pg-replica-port")
    run(
        as_pg_user(
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
        cwd=pg_dir(cfg),
        timeout=90,
        logs=[log],
    )


def pg_ctl_stop(cfg: InfraConfig, datadir: Path, log: Path) -> None:
    """Stop the server of ``datadir`` (fast shutdown) if it runs."""
    if not postmaster_alive(datadir):
        return
    run(
        as_pg_user(
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
        cwd=pg_dir(cfg),
        timeout=90,
        logs=[log],
    )


def _ensure_running(cfg: InfraConfig, datadir: Path, port: int, log: Path, what: str) -> bool:
    """If our server for ``datadir`` runs, wait until it accepts connections and return True."""
    if not postmaster_alive(datadir):
        return False
    # Running but not (yet) ready: it may still be starting up or recovering.
    if not wait_until(lambda: pg_ready(port), timeout=60, interval=0.2):
        raise RuntimeError(
            f"{what} in {datadir} is running but 127.0.0.1:{port} does not accept connections "
            f"(wrong port in its config?)\n  log {log} (tail):\n{file_tail(log)}"
        )
    return True


def _ensure_primary(cfg: InfraConfig) -> bool:
    """Start (initialising if needed) the primary; True if it was freshly initialised."""
    datadir, log = primary_dir(cfg), primary_log(cfg)
    if _ensure_running(cfg, datadir, cfg.pg_port, log, "pg primary"):
        return False
    # Before a possibly slow initdb, so a port clash fails fast.
    check_port_free(cfg.pg_port, "Postgres", "--pg-port")
    fresh = not _pg_initialised(datadir)
    if fresh:
        if datadir.exists():  # leftovers of an interrupted initdb
            shutil.rmtree(datadir)
        say(f"pg: initdb {datadir}")
        run(
            as_pg_user(
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
            cwd=pg_dir(cfg),
            timeout=180,
        )
        _write_pg_file(datadir / "pg_hba.conf", _PG_HBA)
    _write_pg_conf(cfg, datadir, cfg.pg_port)
    say(f"pg: starting primary on 127.0.0.1:{cfg.pg_port}")
    _pg_ctl_start(cfg, datadir, cfg.pg_port, log)
    return fresh


def _ensure_replica(cfg: InfraConfig, rebuild: bool) -> None:
    datadir, log = replica_dir(cfg), replica_log(cfg)
    if rebuild and datadir.exists():
        # A replica of a previous primary has another system identifier: useless now.
        say("pg: primary was re-initialised; discarding the old replica")
        pg_ctl_stop(cfg, datadir, log)
        shutil.rmtree(datadir)
    if _ensure_running(cfg, datadir, cfg.pg_replica_port, log, "pg replica"):
        return
    if not (_pg_initialised(datadir) and (datadir / "standby.signal").is_file()):
        if datadir.exists():  # leftovers of an interrupted base backup
            shutil.rmtree(datadir)
        # A slot left by an earlier replica would make `-C` fail; it is inactive now.
        admin_sql(
            cfg,
            cfg.pg_port,
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
            f"WHERE slot_name = {quote_literal(REPLICATION_SLOT)} AND NOT active;",
        )
        say(f"pg: pg_basebackup into {datadir}")
        run(
            as_pg_user(
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
            env=clean_env({"PGPASSWORD": REPLICATION_ROLE, "PGAPPNAME": "veil_replica"}),
            cwd=pg_dir(cfg),
            timeout=300,
            logs=[primary_log(cfg)],
        )
    _write_pg_conf(cfg, datadir, cfg.pg_replica_port)
    say(f"pg: starting replica on 127.0.0.1:{cfg.pg_replica_port}")
    _pg_ctl_start(cfg, datadir, cfg.pg_replica_port, log)


def _wait_replica_streaming(cfg: InfraConfig, timeout: float = 60.0) -> None:
    query = (
        "SELECT pg_is_in_recovery()::text || '|' || "
        "coalesce((SELECT status FROM pg_stat_wal_receiver), 'none');"
    )
    last = ""

    def streaming() -> bool:
        nonlocal last
        last = admin_sql(cfg, cfg.pg_replica_port, query)
        return last == "true|streaming"

    if not wait_until(streaming, timeout=timeout, interval=0.1):
        raise RuntimeError(
            f"pg replica on {cfg.pg_replica_port} is not streaming after {timeout:g}s "
            f"(in_recovery|wal_receiver = {last!r})\n"
            f"  log {replica_log(cfg)} (tail):\n{file_tail(replica_log(cfg))}\n"
            f"  log {primary_log(cfg)} (tail):\n{file_tail(primary_log(cfg))}"
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
    with lock(cfg, "pg"):
        _prepare_pg_dirs(cfg)
        fresh = _ensure_primary(cfg)
        # Roles (incl. replicator) must exist before the base backup.
        admin_sql(cfg, cfg.pg_port, bootstrap_sql(cfg))
        _ensure_replica(cfg, rebuild=fresh)
        _wait_replica_streaming(cfg)


def stop_primary(cfg: InfraConfig) -> None:
    """Stop the Postgres primary only (fast shutdown); :func:`start_postgres` starts it again."""
    with lock(cfg, "pg"):
        pg_ctl_stop(cfg, primary_dir(cfg), primary_log(cfg))


def stop_replica(cfg: InfraConfig) -> None:
    """Stop the read replica only (the failure-table test of a replica that is down)."""
    with lock(cfg, "pg"):
        pg_ctl_stop(cfg, replica_dir(cfg), replica_log(cfg))


def start_replica(cfg: InfraConfig) -> None:
    """Start the stopped replica again and wait until it streams."""
    with lock(cfg, "pg"):
        _ensure_replica(cfg, rebuild=False)
        _wait_replica_streaming(cfg)


def stop_postgres(cfg: InfraConfig) -> None:
    """Stop the replica, then the primary (those that run)."""
    # Replica first, so it does not spend the primary's shutdown retrying its connection.
    for datadir, log, what in (
        (replica_dir(cfg), replica_log(cfg), "replica"),
        (primary_dir(cfg), primary_log(cfg), "primary"),
    ):
        if postmaster_alive(datadir):
            say(f"pg: stopping {what}")
            pg_ctl_stop(cfg, datadir, log)
