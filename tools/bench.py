"""``make bench``: realistic updates through the real stack, measured.

Starts its own stack (Postgres primary + replica, Redis Cluster, emulator, the
services, the gateway) under ``.veil/bench``, registers members, runs k6
(``bench/webhook.js``) against the gateway's webhook, then prints updates/s,
p50/p99 latency and the CPU-ms per update of every process involved
(utime+stime from /proc over the run, divided by the updates sent).

``make bench TRACE=1`` (or ``--trace``) runs the same with tracing on at ratio
1.0, every process exporting to an OTLP sink inside this process (its CPU, a
collector's, is not counted).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from concurrent import futures
from pathlib import Path
from typing import Any

import aiohttp
import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from services.gateway.registry import webhook_secret
from tools.devstack import infra
from tools.devstack.stack import REPO_ROOT, SERVICES, WORKERS, Ports, Stack

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
BOT_ID = 7100000001


def cpu_seconds(pid: int) -> float:
    """utime+stime of one process, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _children(pid: int) -> list[int]:
    result = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    result.append(int(entry.name))
            except (OSError, IndexError):
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
        postmaster = _pidfile_pid(cfg.root / "pg" / datadir / "postmaster.pid")
        groups[label] = [postmaster]
    groups["redis"] = [_pidfile_pid(p) for p in sorted((cfg.root / "redis").glob("*/*.pid"))]
    return groups


def snapshot(groups: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds per group; Postgres backends (children) are counted when sampled."""
    result: dict[str, float] = {}
    for name, pids in groups.items():
        total = 0.0
        for pid in pids:
            members = [pid, *(_children(pid) if name.startswith("postgres") else [])]
            for member in members:
                try:
                    total += cpu_seconds(member)
                except OSError:
                    continue
        result[name] = total
    return result


class _OtlpSink(trace_service_pb2_grpc.TraceServiceServicer):  # type: ignore[misc]
    """Accepts spans over OTLP/gRPC and only counts them."""

    def __init__(self) -> None:
        self.spans = 0
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(  # type: ignore[no-untyped-call]
            self, self._server
        )
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()

    def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: Any
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        """Count and forget."""
        self.spans += sum(
            len(scope.spans) for rs in request.resource_spans for scope in rs.scope_spans
        )
        return trace_service_pb2.ExportTraceServiceResponse()

    def stop(self) -> None:
        """Stop listening."""
        self._server.stop(grace=1)


async def _register_members(stack: Stack, users: list[int]) -> None:
    async with aiohttp.ClientSession() as http:
        semaphore = asyncio.Semaphore(8)

        async def start(user: int) -> None:
            async with (
                semaphore,
                http.post(
                    f"{stack.emulator_url}/control/bots/{BOT_ID}/users/{user}/start", json={}
                ) as response,
            ):
                assert response.status == 200, await response.text()

        await asyncio.gather(*[start(u) for u in users])


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--sessions", type=int, default=int(os.environ.get("SESSIONS", 600)))
    parser.add_argument("--vus", type=int, default=int(os.environ.get("VUS", 40)))
    parser.add_argument("--users", type=int, default=400)
    parser.add_argument("--trace", action="store_true", default=os.environ.get("TRACE") == "1")
    args = parser.parse_args()
    sink = _OtlpSink() if args.trace else None
    tracing = (
        {"VEIL_OTLP_ENDPOINT": f"http://127.0.0.1:{sink.port}", "VEIL_TRACE_SAMPLE_RATIO": "1.0"}
        if sink is not None
        else {}
    )

    # Shifted like the suite's ports (VEIL_TEST_PORT_OFFSET) so that a bench and
    # test runs of other checkouts on the same machine do not collide.
    offset = int(os.environ.get("VEIL_TEST_PORT_OFFSET", "0"))
    cfg = infra.InfraConfig(
        root=REPO_ROOT / ".veil" / "bench",
        pg_port=26632 + offset,
        pg_replica_port=26633 + offset,
        redis_ports=tuple(27301 + offset + i for i in range(6)),
    )
    infra.destroy(cfg)
    stack = Stack(
        cfg,
        ports=Ports.ephemeral(),
        attached=True,
        log_level="WARNING",
        extra_env={
            "VEIL_RATE_LIMIT_BURST": "1000",
            "VEIL_RATE_LIMIT_PER_MINUTE": "100000",
            **tracing,
        },
    )
    try:
        print("bench: starting the stack…", flush=True)
        stack.start_infra()
        stack.start_services()
        token = f"{BOT_ID}:{stack.secrets()['demo_bot_token'].split(':')[1]}"
        output = stack.add_community(token, -1007100000001, -1007100000002, "Bench U")
        community_id = int(output.split()[1].rstrip(":"))
        stack.start_gateway()
        users = [8_000_000_000 + i for i in range(args.users)]
        asyncio.run(_register_members(stack, users))
        secret = webhook_secret(
            stack.secrets()["webhook_secret_key"].encode(), community_id, BOT_ID
        )
        groups = process_groups(stack, cfg)
        summary = stack.root / "k6-summary.json"
        env = {
            **os.environ,
            "GATEWAY_URL": f"{stack.gateway_url}/webhook/{community_id}",
            "WEBHOOK_SECRET": secret,
            "EMULATOR_URL": stack.emulator_url,
            "BOT_ID": str(BOT_ID),
            "USER_IDS": json.dumps(users),
            "SESSIONS": str(args.sessions),
            "VUS": str(args.vus),
            "K6_NO_USAGE_REPORT": "true",
        }
        k6 = str(Path(sys.executable).parent / "k6")
        print(f"bench: k6 — {args.sessions} sessions × 6 updates, {args.vus} VUs", flush=True)
        before, started = snapshot(groups), time.monotonic()
        subprocess.run(
            [
                k6,
                "run",
                "--quiet",
                "--summary-export",
                str(summary),
                str(REPO_ROOT / "bench" / "webhook.js"),
            ],
            env=env,
            check=True,
        )
        elapsed, after = time.monotonic() - started, snapshot(groups)
        report(json.loads(summary.read_text()), before, after, elapsed)
        print(f"tracing: {'on, ratio 1.0' if sink else 'off (no VEIL_OTLP_ENDPOINT)'}")
    finally:
        stack.stop_processes()
        infra.stop(cfg)
        if sink is not None:
            print(f"spans exported: {sink.spans}")
            sink.stop()


def report(
    summary: dict[str, Any],
    before: dict[str, float],
    after: dict[str, float],
    elapsed: float,
) -> None:
    """Print the figures."""
    metrics = summary["metrics"]
    count = int(metrics["updates"]["count"])
    failed = int(metrics.get("failed_updates", {}).get("count", 0))
    latency = metrics["webhook_latency"]
    print(
        f"\nupdates: {count} in {elapsed:.1f} s → {count / elapsed:.0f} updates/s ({failed} failed)"
    )
    print(
        f"latency: p50 {latency['p(50)']:.1f} ms · p90 {latency['p(90)']:.1f} ms · "
        f"p99 {latency['p(99)']:.1f} ms · max {latency['max']:.1f} ms"
    )
    print("CPU-ms per update:")
    total = 0.0
    for name in after:
        per_update = (after[name] - before[name]) * 1000 / max(count, 1)
        if name != "emulator":
            total += per_update
        print(f"  {name:18} {per_update:6.2f}")
    print(f"  {'veil total':18} {total:6.2f}   (everything but the emulator and k6)")
    if failed:
        sys.exit(f"{failed} updates failed")


if __name__ == "__main__":
    main()
