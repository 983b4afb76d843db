"""The whole local infrastructure at once: start, stop, status, destroy."""

from __future__ import annotations

import contextlib
import shutil
from concurrent.futures import ThreadPoolExecutor

from tools.devstack.infra.binaries import ensure_binaries
from tools.devstack.infra.config import (
    InfraConfig,
    logs_dir,
    pg_dir,
    primary_dir,
    redis_root,
    replica_dir,
    socket_dir,
)
from tools.devstack.infra.postgres import pg_ready, postmaster_alive, start_postgres, stop_postgres
from tools.devstack.infra.processes import lock, say
from tools.devstack.infra.redis_cluster import redis_cluster_ok, start_redis_cluster, stop_redis


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
    with lock(cfg, "pg"), lock(cfg, "redis"):
        stop_postgres(cfg)
        stop_redis(cfg)


def status(cfg: InfraConfig) -> dict[str, bool]:
    """Health of each component: ``{"pg_primary", "pg_replica", "redis_cluster"}``."""
    return {
        "pg_primary": postmaster_alive(primary_dir(cfg)) and pg_ready(cfg.pg_port),
        "pg_replica": postmaster_alive(replica_dir(cfg)) and pg_ready(cfg.pg_replica_port),
        "redis_cluster": redis_cluster_ok(cfg),
    }


def destroy(cfg: InfraConfig) -> None:
    """Stop everything and delete all data and logs under ``cfg.root``."""
    if not cfg.root.exists():
        return
    with lock(cfg, "pg"), lock(cfg, "redis"):
        stop_postgres(cfg)
        stop_redis(cfg)
        say(f"removing data under {cfg.root}")
        for folder in (pg_dir(cfg), redis_root(cfg), logs_dir(cfg), socket_dir(cfg)):
            shutil.rmtree(folder, ignore_errors=True)
        for name in ("pg", "redis"):
            (cfg.root / f".{name}.lock").unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # only if nothing else lives there
        cfg.root.rmdir()
