"""The bench's own arithmetic (no timing here: ``make bench`` measures, tests do not)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tools.bench.counters import Counts, cpu_seconds
from tools.bench.report import (
    Step,
    beyond_background,
    log_complaints,
    print_counts,
    print_statements,
    print_summary,
)


def test_cpu_of_children_that_exited_is_counted() -> None:
    """Postgres backends end during a run: their CPU moves to the parent's cutime+cstime."""
    before = cpu_seconds(os.getpid())
    subprocess.run([sys.executable, "-c", "sum(i * i for i in range(6_000_000))"], check=True)
    # Only the child worked; it was reaped by subprocess.run.
    assert cpu_seconds(os.getpid()) - before >= 0.1


def _summary(step: int, updates: int, errors: int, p99: float) -> dict[str, object]:
    return {
        f"latency{{step:{step}}}": {"values": {"p(50)": p99 / 4, "p(99)": p99, "count": updates}},
        f"latency{{step:{step},kind:me}}": {"values": {"p(50)": 5.0, "p(99)": 9.0, "count": 3}},
        f"latency{{step:{step},kind:open}}": {"values": {"count": 0}},
        f"updates{{step:{step}}}": {"values": {"count": updates}},
        f"failures{{step:{step}}}": {"values": {"count": errors}},
        f"dropped_iterations{{scenario:step{step}}}": {"values": {"count": 0}},
    }


def test_a_step_is_held_only_at_rate_without_errors_within_100_ms() -> None:
    cpu = ({"gateway": 1.0, "emulator": 5.0}, Counts(grpc=10))
    cpu_after = ({"gateway": 2.0, "emulator": 9.0}, Counts(grpc=210))
    held = Step.from_summary(_summary(0, 1000, 0, 80.0), 0, 100, 10, cpu, cpu_after)
    assert held.achieved == 100 and held.sustained
    assert held.kinds == {"me": (3, 5.0, 9.0)}
    # CPU-ms per update; the emulator (the driver's side) is not Veil's.
    assert held.cpu_ms == {"gateway": 1.0, "emulator": 4.0} and held.veil_cpu_ms == 1.0
    assert held.counts.grpc == 0.2
    slow = Step.from_summary(_summary(1, 1000, 0, 120.0), 1, 100, 10, cpu, cpu_after)
    failing = Step.from_summary(_summary(2, 1000, 1, 80.0), 2, 100, 10, cpu, cpu_after)
    short = Step.from_summary(_summary(3, 900, 0, 80.0), 3, 100, 10, cpu, cpu_after)
    assert not (slow.sustained or failing.sustained or short.sustained)


def test_the_yardstick_is_the_mean_of_the_bracketing_reference_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    steps = [
        Step(0, 100, 10, 1000, 0, 0, 5.0, 40.0, cpu_ms={"gateway": 3.0, "emulator": 1.0}),
        Step(1, 200, 10, 3000, 0, 0, 9.0, 150.0, cpu_ms={"gateway": 2.0, "emulator": 2.0}),
    ]
    # 1.0 over 1,000 updates before the steps, 2.0 over 3,000 after: 1.75.
    # k6 used 6 s over the run's 4,000 updates.
    print_summary(steps, [(1.0, 1000), (2.0, 3000)], driver_cpu_seconds=6.0)
    lines = capsys.readouterr().out.splitlines()
    assert "reference: 4000 updates, 1.00 then 2.00 CPU-ms per update" in lines
    # Veil 2.25 (weighted by updates), the emulator 1.75.
    assert "veil total per emulator CPU-ms 1.29" in lines
    assert "driver (k6) 1.50 CPU-ms per update" in lines
    assert lines[-4:] == [
        "veil total 2.25 CPU-ms per update",
        "reference aiogram 1.75 CPU-ms per update",
        "ratio 1.29",
        "sustained 100 updates/s at p99 ≤ 100 ms",
    ]


def test_the_statements_of_the_mixed_run_are_its_calls_per_update_most_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = {(1, "a"): (10, "SELECT a"), (1, "b"): (5, "SELECT b"), (2, "a"): (7, "SELECT a")}
    after = {
        (1, "a"): (30, "SELECT a"),
        (1, "b"): (5, "SELECT b"),  # not run during the steps
        (2, "a"): (17, "SELECT a"),  # the same id on the replica is its own row
        (1, "c"): (40, "INSERT c"),  # first run during the steps
    }
    print_statements(before, after, updates=20, top=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == [
        "statements of the mixed run (3.50 per update), top 2:",
        "   2.000  1  INSERT c",
        "   1.000  1  SELECT a",
    ]


def test_the_background_is_taken_out_statement_by_statement(
    capsys: pytest.CaptureFixture[str],
) -> None:
    poll, sweep, insert = (1, "poll"), (1, "sweep"), (1, "insert")
    # Idle for 10 s: the worker's poll 10/s, a relay's sweep every 5 s.
    idle = {poll: 100, sweep: 2}
    # Two sends over 1.9 s: the poll caught one beat fewer than its pace (18,
    # not 19), the sweep none; each send ran its own 3 inserts and one poll more.
    send = {poll: 18 + 2, insert: 6}
    assert beyond_background(send, 1.9, idle, 10.0) == pytest.approx(6 + 1)
    # One beat fewer of the poll takes away nothing of the inserts' count.
    assert beyond_background({poll: 17, insert: 6}, 1.9, idle, 10.0) == 6
    # A statement the background never ran counts whole.
    assert beyond_background({insert: 3}, 30.0, idle, 10.0) == 3

    # The SQL column: per update, statement by statement; the other columns
    # still subtract the background's rate.
    per_kind = {"idle": Counts(sql=102, grpc=0), "send": Counts(sql=26, grpc=2)}
    print_counts(
        per_kind,
        {"idle": 5, "send": 2},
        {"idle": 10.0, "send": 1.9},
        {"idle": idle, "send": send},
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2].split() == ["(idle,", "per", "s)", "0.00", "10.20", *["0.00"] * 4]
    assert lines[-1].split() == ["send", "1.00", "3.50", *["0.00"] * 4]


def test_the_logs_complaints_are_counted_by_process_message_and_kind() -> None:
    error = (
        '{"level": "ERROR", "message": "update handling failed", "update_id": 1, '
        '"error_type": "KeyError"}'
    )
    lines = {
        "gateway": [
            error,
            error.replace('"update_id": 1', '"update_id": 2'),
            '{"level": "INFO", "message": "duplicate update dropped"}',
            '{"level": "WARNING", "message": "update dropped", "reason": "oversized"}',
            "Traceback (most recent call last):",  # not one of Veil's JSON lines
        ],
        "social": ['{"level": "WARNING", "message": "relay batch not sent; retried"}'],
    }
    assert log_complaints(lines) == [
        "  2× gateway ERROR: update handling failed (KeyError)",
        "  1× gateway WARNING: update dropped (oversized)",
        "  1× social WARNING: relay batch not sent; retried",
    ]
    assert log_complaints({"gateway": ['{"level": "INFO", "message": "ok"}']}) == []


def test_the_floors_updates_are_what_aiogram_reads_as_the_command_or_text() -> None:
    from aiogram.types import Update

    from tools.bench.floor import message_update

    command = Update.model_validate_json(message_update(7, 1001, "/help me"))
    assert command.message is not None and command.message.from_user is not None
    assert (command.update_id, command.message.from_user.id) == (7, 1001)
    entities = command.message.entities or []
    assert [(e.type, e.offset, e.length) for e in entities] == [("bot_command", 0, 5)]
    assert command.message.text == "/help me"
    text = Update.model_validate_json(message_update(8, 1001, "hello"))
    assert text.message is not None and text.message.entities is None
