"""What ``make chaos`` prints: latency per fault window, recovery, alerts per fault."""

from __future__ import annotations

from typing import Any

from tools.chaos.prom import Seen
from tools.chaos.script import Fault, Struck

#: Seconds after a fault's strike counted as "during" it; the rest until the next is "after".
DURING_SECONDS = 20.0


def windows(script: list[Fault], duration: float) -> list[tuple[str, float, float]]:
    """[name, from, to] in seconds after the start: baseline, then fN-during / fN-after."""
    faults = sorted(script, key=lambda f: f.at)
    result = [("baseline", 0.0, faults[0].at if faults else duration)]
    for n, fault in enumerate(faults):
        end = faults[n + 1].at if n + 1 < len(faults) else duration + 3600
        middle = min(fault.at + DURING_SECONDS, end)
        result.append((f"f{n}-during", fault.at, middle))
        if middle < end:
            result.append((f"f{n}-after", middle, end))
    return result


def latency_lines(metrics: dict[str, Any], names: list[str]) -> list[str]:
    """p50/p99 and counts per window, from k6's summary."""
    lines = [f"{'window':<12} {'updates':>8} {'failed':>7} {'p50 ms':>9} {'p99 ms':>9}"]
    for name in names:
        trend = metrics.get(f"latency{{window:{name}}}", {}).get("values", {})
        count = metrics.get(f"updates{{window:{name}}}", {}).get("values", {}).get("count", 0)
        failed = metrics.get(f"failures{{window:{name}}}", {}).get("values", {}).get("count", 0)
        lines.append(
            f"{name:<12} {int(count):>8} {int(failed):>7}"
            f" {trend.get('p(50)', 0):>9.0f} {trend.get('p(99)', 0):>9.0f}"
        )
    return lines


def fault_lines(struck: list[Struck], seen: list[Seen], start_at: float) -> list[str]:
    """fault → recovery → alert fired at / resolved at (seconds after the start)."""

    def rel(moment: float | None) -> str:
        return "never" if moment is None else f"{moment - start_at:.0f}s"

    ordered = sorted(struck, key=lambda s: s.began)
    lines = []
    for n, entry in enumerate(ordered):
        until = ordered[n + 1].began if n + 1 < len(ordered) else float("inf")
        recovery = entry.recovery_seconds
        head = (
            f"f{n} {entry.fault.name:<40} at {rel(entry.began):>5}"
            f"  recovered in {'never' if recovery is None else f'{recovery:.0f}s'}"
        )
        if entry.error:
            head += f"  (fault failed: {entry.error})"
        lines.append(head)
        mine = [s for s in seen if s.pending_at is not None and entry.began <= s.pending_at < until]
        for alert in mine:
            lines.append(
                f"     → {alert.name}{{{alert.labels}}} pending {rel(alert.pending_at)}"
                f" fired {rel(alert.fired_at)} resolved {rel(alert.resolved_at)}"
            )
        fired = {s.name for s in mine if s.fired_at is not None}
        missing = [a for a in entry.fault.alerts if a not in fired]
        if not entry.fault.alerts and not fired and entry.fault.unpaged:
            lines.append(f"     → not paged, on purpose: {entry.fault.unpaged}")
        elif not entry.fault.alerts and not fired:
            lines.append("     → no alert fired, no reason given (silent fault)")
        elif not mine:
            lines.append("     → no alert fired (silent fault)")
        elif missing:
            lines.append(f"     → expected, not fired: {', '.join(missing)}")
    return lines


def silent(struck: list[Struck], seen: list[Seen]) -> list[str]:
    """Faults whose expected alerts did not fire (at any time after the strike), and
    faults that expect none, give no reason, and met no alert."""
    result = []
    for entry in struck:
        fired = {s.name for s in seen if s.fired_at is not None and s.fired_at >= entry.began}
        unexplained = not entry.fault.alerts and not entry.fault.unpaged and not fired
        if unexplained or any(name not in fired for name in entry.fault.alerts):
            result.append(entry.fault.name)
    return result
