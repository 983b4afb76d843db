"""How ``make bench`` prints its figures (the last four lines are stable, for comparing runs)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tools.bench.counters import Counts

#: Processes outside Veil's own cost (the driver's side of the emulator).
NOT_VEIL = ("emulator",)
P99_TARGET_MS = 100.0
_COMPLAINTS = ("WARNING", "ERROR", "CRITICAL")

#: A statement's key: its server's port and its query id.
Key = tuple[int, str]


@dataclass
class Step:
    """One rate step of the mixed run."""

    index: int
    rate: int
    seconds: int
    updates: int
    errors: int
    dropped: int
    p50: float
    p99: float
    kinds: dict[str, tuple[int, float, float]] = field(default_factory=dict)
    cpu_ms: dict[str, float] = field(default_factory=dict)
    counts: Counts = field(default_factory=Counts)

    @property
    def achieved(self) -> float:
        """Updates per second actually sent and answered."""
        return self.updates / self.seconds

    @property
    def veil_cpu_ms(self) -> float:
        """CPU-ms per update of everything but the emulator (and k6)."""
        return sum(v for k, v in self.cpu_ms.items() if k not in NOT_VEIL)

    @property
    def sustained(self) -> bool:
        """The rate was held: ≥ 95% achieved, no errors, p99 within the target."""
        return self.achieved >= 0.95 * self.rate and self.errors == 0 and self.p99 <= P99_TARGET_MS

    @classmethod
    def from_summary(
        cls,
        metrics: dict[str, Any],
        index: int,
        rate: int,
        seconds: int,
        start: tuple[dict[str, float], Counts],
        end: tuple[dict[str, float], Counts],
    ) -> Step:
        """The step's figures from k6's summary and the samples around it."""

        def values(name: str) -> dict[str, float]:
            return dict(metrics.get(name, {}).get("values", {}))

        latency = values(f"latency{{step:{index}}}")
        updates = int(values(f"updates{{step:{index}}}").get("count", 0))
        kinds = {}
        for name in metrics:
            prefix = f"latency{{step:{index},kind:"
            if name.startswith(prefix):
                v = values(name)
                if v.get("count"):
                    kinds[name[len(prefix) : -1]] = (int(v["count"]), v["p(50)"], v["p(99)"])
        (cpu_before, counts_before), (cpu_after, counts_after) = start, end
        per_update = 1000 / max(updates, 1)
        return cls(
            index=index,
            rate=rate,
            seconds=seconds,
            updates=updates,
            errors=int(values(f"failures{{step:{index}}}").get("count", 0)),
            dropped=int(values(f"dropped_iterations{{scenario:step{index}}}").get("count", 0)),
            p50=float(latency.get("p(50)", 0.0)),
            p99=float(latency.get("p(99)", 0.0)),
            kinds=kinds,
            cpu_ms={k: (cpu_after[k] - cpu_before[k]) * per_update for k in cpu_after},
            counts=(counts_after - counts_before).scaled(1 / max(updates, 1)),
        )


def _counts_row(label: str, c: Counts, trips: bool = True) -> str:
    redis_trips = f"{c.redis_trips:7.2f}" if trips else "      -"
    return (
        f"  {label:14} {c.grpc:6.2f} {c.sql:6.2f} {c.redis:7.2f} {redis_trips} "
        f"{c.bot_api:7.2f} {c.in_reply:7.2f}"
    )


_COUNTS_HEADER = "  kind             gRPC    SQL   Redis   trips  Bot API (in 200)"


def beyond_background(
    done: Mapping[Key, int], seconds: float, idle: Mapping[Key, int], idle_seconds: float
) -> float:
    """Statements run over ``seconds`` beyond the background's pace.

    Per statement, its calls less what it ran idle over as long (``idle``: its
    calls over ``idle_seconds``), never below zero. The background is polls
    (the notifier worker's claims, the relays' sweeps), each its own statement
    on its own beat, so an interval catches one beat more or fewer of it: taken
    out of the total as one rate, that swung the count of an update by ±3
    (negative for some); taken out per statement, a beat more is at most that
    poll's one statement, and a beat fewer cannot take away another
    statement's work.
    """
    scale = seconds / max(idle_seconds, 1e-9)
    return sum(max(0.0, calls - idle.get(key, 0) * scale) for key, calls in done.items())


def print_counts(
    per_kind: dict[str, Counts],
    seen: dict[str, int],
    seconds: dict[str, float],
    statements: Mapping[str, Mapping[Key, int]] | None = None,
) -> None:
    """Work per update kind from the count phase, the idle background subtracted.

    The background (the notifier worker's polls, the relays' sweeps) is
    measured per second over idle intervals and taken out of each interval in
    proportion to its length; SQL statement by statement when ``statements``
    (per kind, each statement's calls) is given (:func:`beyond_background`).
    """
    idle_seconds = max(seconds.get("idle", 0.0), 1e-9)
    idle_rate = per_kind.get("idle", Counts()).scaled(1 / idle_seconds)
    idle_statements = (statements or {}).get("idle", {})
    print("\nwork per update, by kind (one at a time, idle background subtracted):")
    print(_COUNTS_HEADER)
    print(_counts_row("(idle, per s)", idle_rate))
    for kind, total in per_kind.items():
        if kind == "idle":
            continue
        own = total - idle_rate.scaled(seconds[kind])
        if statements is not None:
            own.sql = beyond_background(
                statements.get(kind, {}), seconds[kind], idle_statements, idle_seconds
            )
        print(_counts_row(kind, own.scaled(1 / seen[kind])))


def print_step(step: Step) -> None:
    """One step's figures."""
    flag = "held" if step.sustained else "NOT held"
    print(
        f"\nstep {step.index + 1}: {step.rate}/s → {step.achieved:.0f} updates/s achieved "
        f"({step.updates} updates, {step.errors} errors, {step.dropped} dropped) — "
        f"p50 {step.p50:.1f} ms, p99 {step.p99:.1f} ms: {flag}"
    )
    kinds = " · ".join(
        f"{kind} {p50:.0f}/{p99:.0f}" for kind, (_, p50, p99) in sorted(step.kinds.items())
    )
    print(f"  p50/p99 ms by kind: {kinds}")
    cpu = " · ".join(f"{name} {ms:.2f}" for name, ms in step.cpu_ms.items())
    print(f"  CPU-ms per update: {cpu} · veil total {step.veil_cpu_ms:.2f}")
    print(_COUNTS_HEADER.replace("kind  ", "mixed "))
    print(_counts_row("per update", step.counts, trips=False))


def print_summary(
    steps: list[Step], references: list[tuple[float, int]], driver_cpu_seconds: float = 0.0
) -> None:
    """The stable lines: Veil's CPU per update over the whole mixed run, the yardstick
    (the mean of the reference runs, each (CPU-ms per update, updates)), …

    ``driver_cpu_seconds``: what k6 used over the mixed run (it shares the
    machine, so it bounds the rate the machine can sustain, but is not Veil's)."""
    reference_updates = sum(count for _, count in references)
    reference_ms = sum(ms * count for ms, count in references) / max(reference_updates, 1)
    updates = sum(s.updates for s in steps)
    veil = sum(s.veil_cpu_ms * s.updates for s in steps) / max(updates, 1)
    by_process: dict[str, float] = {}
    for step in steps:
        for name, ms in step.cpu_ms.items():
            by_process[name] = by_process.get(name, 0.0) + ms * step.updates / max(updates, 1)
    print(
        "\nwhole mixed run, CPU-ms per update: "
        + " · ".join(f"{name} {ms:.2f}" for name, ms in by_process.items())
    )
    emulator = by_process.get("emulator", 0.0)
    if emulator > 0:
        # The emulator is the same code in every run and shares the machine with
        # Veil for the whole mixed run: a yardstick steadier than the reference.
        print(f"veil total per emulator CPU-ms {veil / emulator:.2f}")
    if driver_cpu_seconds > 0:
        print(f"driver (k6) {driver_cpu_seconds * 1000 / max(updates, 1):.2f} CPU-ms per update")
    print(
        f"reference: {reference_updates} updates, "
        + " then ".join(f"{ms:.2f}" for ms, _ in references)
        + " CPU-ms per update"
    )
    held = [s.achieved for s in steps if s.sustained]
    print(f"veil total {veil:.2f} CPU-ms per update")
    print(f"reference aiogram {reference_ms:.2f} CPU-ms per update")
    print(f"ratio {veil / max(reference_ms, 1e-9):.2f}")
    print(f"sustained {max(held) if held else 0:.0f} updates/s at p99 ≤ 100 ms")


def print_statements(
    before: dict[tuple[int, str], tuple[int, str]],
    after: dict[tuple[int, str], tuple[int, str]],
    updates: int,
    top: int,
) -> None:
    """The ``top`` statements of the mixed run by calls per mixed update
    (``STATEMENTS=N``): what the SQL column is made of."""
    rows = []
    for key, (calls, text) in after.items():
        done = calls - before.get(key, (0, text))[0]
        if done > 0:
            rows.append((done, key[0], text))
    rows.sort(reverse=True)
    total = sum(done for done, _, _ in rows)
    print(f"\nstatements of the mixed run ({total / max(updates, 1):.2f} per update), top {top}:")
    for done, port, text in rows[:top]:
        print(f"  {done / max(updates, 1):6.3f}  {port}  {text}")


def log_complaints(lines_by_process: Mapping[str, Iterable[str]]) -> list[str]:
    """What Veil's processes logged at WARNING or above, counted by process,
    level, message and error type, most first: what the errors column was.

    Veil logs JSON lines (ids and kinds, never content); other lines are skipped.
    """
    counts: Counter[tuple[str, str, str, str]] = Counter()
    for process, lines in lines_by_process.items():
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if not isinstance(record, dict) or record.get("level") not in _COMPLAINTS:
                continue
            kind = str(record.get("error_type") or record.get("reason") or "")
            counts[(process, str(record["level"]), str(record.get("message", "")), kind)] += 1
    return [
        f"  {n}× {process} {level}: {message}" + (f" ({kind})" if kind else "")
        for (process, level, message, kind), n in counts.most_common()
    ]
