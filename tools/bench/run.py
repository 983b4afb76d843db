"""``make bench``: an open-loop mixed workload through the real stack, and a yardstick.

Starts its own stack (Postgres primary + replica with pg_stat_statements, Redis
Cluster, emulator, the services, the gateway) under ``.veil/bench``, creates
several communities (each with a channel and an admin chat), registers members
and seeds threads (tools/bench/world.py), then runs k6 (tools/bench/webhook.js) three
times:

1. **count**: every session kind a few times, one update at a time; after each
   update the bench snapshots gRPC calls, SQL statements, Redis commands and
   Bot API calls, and prints them per update kind;
2. **mixed**: stepped arrival rates (``RATES``, ``STEP_SECONDS`` each), printing
   per step the achieved rate, p50/p99 per update kind, errors and CPU-ms per
   update of every process;
3. **reference**: stock aiogram answering trivial handlers in the webhook
   response (tools/bench/reference.py) at ``REF_RATE`` for ``REF_SECONDS``,
   once before the steps and once after them (their mean is the yardstick).

It ends with four stable lines (``veil total … CPU-ms per update``,
``reference aiogram … CPU-ms per update``, ``ratio …``, ``sustained … updates/s
at p99 ≤ 100 ms``). ``make bench TRACE=1`` runs with tracing on at ratio 1.0.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import threading
import time
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tools.bench import reference
from tools.bench import world as bench_world
from tools.bench.counters import (
    CountReader,
    Counts,
    cpu_seconds,
    cpu_snapshot,
    process_groups,
)
from tools.bench.k6 import run_k6
from tools.bench.report import (
    Key,
    Step,
    log_complaints,
    print_counts,
    print_statements,
    print_step,
    print_summary,
)
from tools.bench.trace import OtlpSink
from tools.devstack.environment import SERVICES, WORKERS
from tools.devstack.infra import lifecycle
from tools.devstack.stack import Stack


def _env_list(name: str, default: str) -> list[int]:
    return [int(x) for x in os.environ.get(name, default).split(",") if x.strip()]


class Marks:
    """The bench's side of k6's marks: counters per update kind, CPU per step."""

    def __init__(self, reader: CountReader, groups: dict[str, list[int]]) -> None:
        self.reader = reader
        self.groups = groups
        self.per_kind: dict[str, Counts] = defaultdict(Counts)
        self.seen: dict[str, int] = defaultdict(int)
        self.seconds: dict[str, float] = defaultdict(float)
        #: Per kind, each statement's calls (server port, query id → calls).
        self.statements: dict[str, Counter[Key]] = defaultdict(Counter)
        self._last: Counts | None = None
        self._last_statements: dict[Key, int] = {}
        self._last_at = 0.0
        self.started = threading.Event()

    def mark(self, kind: str | None) -> None:
        """Attribute what happened since the last mark to ``kind``."""
        if kind == "__start__":
            self.started.set()
            return
        (now, statements), at = self.reader.read_by_statement(), time.monotonic()
        if kind is not None and self._last is not None:
            self.per_kind[kind] = self.per_kind[kind] + (now - self._last)
            self.seconds[kind] += at - self._last_at
            self.seen[kind] += 1
            for key, calls in statements.items():
                if calls > self._last_statements.get(key, 0):
                    self.statements[kind][key] += calls - self._last_statements.get(key, 0)
        self._last, self._last_at, self._last_statements = now, at, statements

    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        """An HTTP endpoint k6 posts marks to."""
        marks = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                marks.mark(json.loads(body).get("kind"))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, f"http://127.0.0.1:{server.server_address[1]}/mark"


def _sample_steps(
    marks: Marks, rates: list[int], seconds: int
) -> list[tuple[dict[str, float], Counts]]:
    """CPU and counts at the start of every step and at the end of the last."""
    samples: list[tuple[dict[str, float], Counts]] = []
    marks.started.wait(timeout=120)
    t0 = time.monotonic()
    for i in range(len(rates) + 1):
        time.sleep(max(0.0, t0 + i * seconds - time.monotonic()))
        samples.append((cpu_snapshot(marks.groups), marks.reader.read()))
    return samples


def _print_complaints(stack: Stack) -> None:
    """What Veil's processes logged at WARNING or above so far (the errors' causes)."""
    lines: dict[str, list[str]] = {}
    for name in ("gateway", *SERVICES, *WORKERS):
        path = stack.log_path(name)
        lines[name] = path.read_text(errors="replace").splitlines() if path.exists() else []
    complaints = log_complaints(lines)
    print("\nVeil's warnings and errors in its logs:" + ("" if complaints else " none"))
    for line in complaints:
        print(line)


def _settle(groups: dict[str, list[int]], seconds: float = 60.0) -> None:
    """Wait (up to ``seconds``) until the stack uses under a tenth of a core."""
    deadline = time.monotonic() + seconds
    before = sum(cpu_snapshot(groups).values())
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = sum(cpu_snapshot(groups).values())
        if now - before < 0.1:
            return
        before = now


def _reference(root: Path, config: dict[str, Any], summaries: Path) -> tuple[float, int]:
    """CPU-ms per update of stock aiogram, and the updates it answered."""
    with reference.running() as (url, pid):
        path = root / "k6-reference.json"
        path.write_text(json.dumps({**config, "reference_url": url}))
        before = cpu_seconds(pid)
        metrics = run_k6(path, "reference", summaries)
        spent = cpu_seconds(pid) - before
    count = int(metrics["updates{step:ref}"]["values"]["count"])
    return spent * 1000 / max(count, 1), count


def main() -> None:
    """Run the benchmark and print its figures.

    One function on purpose: it is the run's script, read top-down (knobs,
    stack, seeding, the counting pass, the open-loop steps, the reference),
    and one ``try`` stops the stack whatever step fails.
    """
    if {"-h", "--help"} & set(sys.argv[1:]):
        # Anything else starts a stack and runs for minutes.
        print(__doc__)
        print(
            "Knobs (environment): RATES, STEP_SECONDS, COMMUNITIES, MEMBERS, MAX_VUS, "
            "COUNT_REPS, SETTLE_SECONDS, REF_RATE, REF_SECONDS, STATEMENTS=N, TRACE=1 "
            "(README: Benchmark)."
        )
        return
    rates = _env_list("RATES", "100,200,300,400,600")
    step_seconds = int(os.environ.get("STEP_SECONDS", "20"))
    communities = int(os.environ.get("COMMUNITIES", "3"))
    max_vus = int(os.environ.get("MAX_VUS", "300"))
    members = max(int(os.environ.get("MEMBERS", "450")), max_vus)
    trace = os.environ.get("TRACE") == "1" or "--trace" in sys.argv
    statements_top = int(os.environ.get("STATEMENTS", "0"))
    sink = OtlpSink() if trace else None
    tracing = (
        {"VEIL_OTLP_ENDPOINT": f"http://127.0.0.1:{sink.port}", "VEIL_TRACE_SAMPLE_RATIO": "1.0"}
        if sink is not None
        else {}
    )
    cfg, stack = bench_world.bench_stack(tracing)
    try:
        print("bench: starting the stack…", flush=True)
        stack.start_infra()
        stack.start_services()
        reader = CountReader(stack, cfg)
        reader.enable_sql_counting()
        print(f"bench: {communities} communities, {members} members, seeding threads…", flush=True)
        bench_communities, roster = asyncio.run(
            bench_world.build(stack, communities, members, threads=6)
        )
        marks = Marks(reader, process_groups(stack, cfg))
        server, mark_url = marks.serve()
        config = {
            "communities": [c.to_config() for c in bench_communities],
            "members": roster,
            "emulator": stack.emulator_url,
            "rates": rates,
            "step_seconds": step_seconds,
            "max_vus": max_vus,
            "mark_url": mark_url,
            "settle_seconds": float(os.environ.get("SETTLE_SECONDS", "0.5")),
            "count_reps": int(os.environ.get("COUNT_REPS", "4")),
            # Unique per run: a second run on a reused stack is not all duplicates.
            "update_id_base": (int(time.time()) % 100_000 + 1) * 10_000_000_000,
            "reference_rate": int(os.environ.get("REF_RATE", "200")),
            "reference_seconds": int(os.environ.get("REF_SECONDS", "15")),
        }
        path = stack.root / "k6-config.json"
        path.write_text(json.dumps(config))
        summaries = stack.root / "k6-summary.json"
        print("bench: counting the work of each update kind…", flush=True)
        reader.monitor_trips(True)
        run_k6(path, "count", summaries)
        reader.monitor_trips(False)
        print_counts(marks.per_kind, marks.seen, marks.seconds, marks.statements)
        # The reference runs before the steps and after them: the machine's speed
        # drifts by 15–30% over minutes, and the mean of the two brackets the
        # mixed run in time, so the ratio compares like with like.
        print(f"bench: reference (stock aiogram) at {config['reference_rate']}/s…", flush=True)
        references = [_reference(stack.root, config, summaries)]
        print(f"bench: open-loop steps {rates}/s, {step_seconds} s each…", flush=True)
        sampler_result: list[list[tuple[dict[str, float], Counts]]] = []
        sampler = threading.Thread(
            target=lambda: sampler_result.append(_sample_steps(marks, rates, step_seconds))
        )
        sampler.start()
        statements = reader.statements() if statements_top else {}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        metrics = run_k6(path, "mixed", summaries)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        statements_after = reader.statements() if statements_top else {}
        # k6 is the only child that exits meanwhile: the children's usage grew by its own.
        driver = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        sampler.join()
        samples = sampler_result[0]
        steps = [
            Step.from_summary(metrics, i, rate, step_seconds, samples[i], samples[i + 1])
            for i, rate in enumerate(rates)
        ]
        for step in steps:
            print_step(step)
        if statements_top:
            mixed_updates = sum(step.updates for step in steps)
            print_statements(statements, statements_after, mixed_updates, statements_top)
        _print_complaints(stack)
        # The saturated steps leave a backlog (queued cards, posts and notices
        # the workers still send): the reference would share the machine with it.
        _settle(marks.groups)
        print("bench: the reference again…", flush=True)
        references.append(_reference(stack.root, config, summaries))
        server.shutdown()
        reader.close()
        print_summary(steps, references, driver)
        print(f"tracing: {'on, ratio 1.0' if sink else 'off (no VEIL_OTLP_ENDPOINT)'}")
    finally:
        stack.stop_processes()
        lifecycle.stop(cfg)
        if sink is not None:
            print(f"spans exported: {sink.spans}")
            sink.stop()
