"""The local Redis Cluster: 3 masters + 3 replicas (one ``redis-server`` per port), under
``<root>/redis``."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Sequence

from tools.devstack.infra.binaries import redis_bin
from tools.devstack.infra.config import (
    REDIS_SLOTS,
    REDIS_TOOLS,
    InfraConfig,
    cluster_bus_port,
    logs_dir,
    redis_conf,
    redis_dir,
    redis_log,
    redis_pidfile,
    redis_root,
)
from tools.devstack.infra.processes import (
    check_port_free,
    file_tail,
    kill_pid,
    lock,
    mkdirs,
    pid_alive,
    read_pid,
    run,
    say,
    wait_pid_gone,
    wait_until,
)


def _redis_cli(port: int, *args: str, timeout: float = 10.0) -> subprocess.CompletedProcess[str]:
    return run(
        [redis_bin("redis-cli"), "-h", "127.0.0.1", "-p", str(port), *args],
        check=False,
        timeout=timeout,
    )


def _redis_ping(port: int) -> bool:
    proc = _redis_cli(port, "ping", timeout=2)
    return proc.returncode == 0 and proc.stdout.strip() == "PONG"


def _redis_is_ours(cfg: InfraConfig, port: int) -> bool:
    """The server on ``port`` is our node (its working dir is our node folder)."""
    lines = _redis_cli(port, "config", "get", "dir", timeout=5).stdout.split()
    return len(lines) == 2 and lines[1] == str(redis_dir(cfg, port))


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


def redis_cluster_ok(cfg: InfraConfig) -> bool:
    """Every node is up and every node's view of the cluster is healthy (checked on all of
    them: right after a failover or restart, views converge at different moments)."""
    return all(_node_view_ok(cfg, port) for port in cfg.redis_ports)


def _write_redis_conf(cfg: InfraConfig, port: int) -> None:
    node_dir = redis_dir(cfg, port)
    mkdirs(node_dir)
    redis_conf(cfg, port).write_text(
        f"""# Managed by tools/devstack/infra/ - rewritten on every start; edits are lost.
port {port}
bind 127.0.0.1
protected-mode no
daemonize yes
pidfile "{redis_pidfile(cfg, port)}"
logfile "{redis_log(cfg, port)}"
dir "{node_dir}"
cluster-enabled yes
cluster-config-file "{node_dir / "nodes.conf"}"
# Short timeout = failover within a few seconds in tests.
cluster-port {cluster_bus_port(port)}
cluster-node-timeout 2000
# Let a replica always take over, however stale: test data is disposable, availability is not.
cluster-replica-validity-factor 0
# Throwaway local data: no persistence at all.
appendonly no
save ""
"""
    )


def _redis_pid(cfg: InfraConfig, port: int) -> int | None:
    pid = read_pid(redis_pidfile(cfg, port))
    return pid if pid is not None and pid_alive(pid, "redis") else None


def _launch_redis_node(cfg: InfraConfig, port: int) -> None:
    check_port_free(port, "Redis node", "--redis-ports")
    mkdirs(logs_dir(cfg))
    _write_redis_conf(cfg, port)
    # daemonize=yes: returns as soon as the server has forked into the background.
    run(
        [redis_bin("redis-server"), redis_conf(cfg, port)],
        cwd=redis_dir(cfg, port),
        timeout=30,
        logs=[redis_log(cfg, port)],
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

    if not wait_until(settled, timeout=timeout, interval=0.05) or exited:
        failed = exited or pending
        what = "exited during startup" if exited else f"did not answer PING within {timeout:g}s"
        details = "\n".join(
            f"  log {redis_log(cfg, p)} (tail):\n{file_tail(redis_log(cfg, p), 8)}" for p in failed
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
                    f"{redis_dir(cfg, port)}); pick other ports with --redis-ports"
                )
            continue
        pid = _redis_pid(cfg, port)
        if pid is not None:
            # Alive but not answering: hung or still loading; not worth waiting for.
            say(f"redis: node {port} (pid {pid}) is unresponsive; killing it")
            kill_pid(pid, "redis")
        check_port_free(port, "Redis node", "--redis-ports")
        to_start.append(port)
    for port in to_start:
        _launch_redis_node(cfg, port)
    if to_start:
        say(f"redis: started nodes {to_start}")
        _wait_redis_up(cfg, to_start)
    return to_start


def stop_redis(cfg: InfraConfig) -> None:
    """Shut down every node of ours (SHUTDOWN NOSAVE NOW, then SIGKILL if ignored)."""
    if not redis_root(cfg).exists():
        return
    pids: dict[int, int] = {}
    for port in cfg.redis_ports:
        pid = _redis_pid(cfg, port)
        if _redis_ping(port):
            if not _redis_is_ours(cfg, port):
                say(f"redis: {port} is not our node; leaving it alone")
                continue
            # NOW: do not wait for lagging replicas; the data is disposable anyway.
            _redis_cli(port, "shutdown", "nosave", "now", timeout=10)
        if pid is not None:
            pids[port] = pid
    if pids:
        say(f"redis: stopping nodes {sorted(pids)}")
    for port, pid in pids.items():
        if not wait_pid_gone(pid, "redis", timeout=10):
            say(f"redis: node {port} ignored SHUTDOWN; killing pid {pid}")
            kill_pid(pid, "redis")
        redis_pidfile(cfg, port).unlink(missing_ok=True)


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
        redis_bin(tool)
    with lock(cfg, "redis"):
        for attempt in (1, 2):
            started = _start_redis_nodes(cfg)
            if not started and redis_cluster_ok(cfg):
                return
            fresh = _cluster_is_fresh(cfg)
            if fresh:
                ports = [f"127.0.0.1:{p}" for p in cfg.redis_ports]
                say(f"redis: creating cluster over {len(ports)} nodes")
                run(
                    [
                        redis_bin("redis-cli"),
                        "--cluster",
                        "create",
                        *ports,
                        "--cluster-replicas",
                        "1",
                        "--cluster-yes",
                    ],
                    timeout=120,
                    logs=[redis_log(cfg, p) for p in cfg.redis_ports[:1]],
                )
            if fresh is not None and wait_until(
                lambda: redis_cluster_ok(cfg), timeout=30, interval=0.1
            ):
                say("redis: cluster ok")
                return
            if attempt == 2:
                raise RuntimeError(
                    "Redis cluster did not become healthy even after a rebuild; node states:\n"
                    + "\n".join(f"  {p}: {_cluster_info(p)}" for p in cfg.redis_ports)
                    + f"\n  log {redis_log(cfg, cfg.redis_ports[0])} (tail):\n"
                    + file_tail(redis_log(cfg, cfg.redis_ports[0]))
                )
            say("redis: cluster is broken; wiping its data and recreating it")
            stop_redis(cfg)
            shutil.rmtree(redis_root(cfg), ignore_errors=True)


def kill_redis_node(cfg: InfraConfig, port: int) -> None:
    """SIGKILL one cluster node (for failover tests). No-op if it is not running."""
    if port not in cfg.redis_ports:
        raise ValueError(f"{port} is not one of this config's redis ports {cfg.redis_ports}")
    pid = _redis_pid(cfg, port)
    if pid is None:
        say(f"redis: node {port} is not running")
        return
    if not kill_pid(pid, "redis"):
        raise RuntimeError(f"redis node {port} (pid {pid}) survived SIGKILL")
    # A SIGKILLed daemon cannot remove its pidfile; a stale one could name a reused pid.
    redis_pidfile(cfg, port).unlink(missing_ok=True)


def start_redis_node(cfg: InfraConfig, port: int) -> None:
    """(Re)start one cluster node from its nodes.conf and wait until it answers PING.

    Does not wait for the cluster to converge; poll ``status`` for that."""
    if port not in cfg.redis_ports:
        raise ValueError(f"{port} is not one of this config's redis ports {cfg.redis_ports}")
    if _redis_ping(port):
        return
    _launch_redis_node(cfg, port)
    _wait_redis_up(cfg, [port])
