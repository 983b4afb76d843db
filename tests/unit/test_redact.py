"""Exception text without member data: what logs, spans and gRPC details may carry."""

from __future__ import annotations

import traceback

import pytest

from veil.core.redact import describe, redact_message, redact_stacktrace, safe_traceback

SECRET = "my secret confession"


class _PgError(Exception):
    sqlstate = "22021"


def _raised() -> BaseException:
    try:
        try:
            raise _PgError(f"invalid byte sequence: '{SECRET}'")
        except _PgError as inner:
            raise RuntimeError(f"[parameters: ('{SECRET}',)]") from inner
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize(
    "message",
    [
        f"invalid input for query argument $1: '{SECRET}'",
        f'duplicate key value violates unique constraint "x" DETAIL: Key (text)=({SECRET})',
        f"[SQL: INSERT INTO t VALUES ($1)] [parameters: ('{SECRET}',)]",
        f'value "{SECRET}" is too long',
    ],
)
def test_quoted_and_bracketed_values_are_cut(message: str) -> None:
    redacted = redact_message(message)
    assert SECRET not in redacted
    assert "…" in redacted


def test_only_the_first_line_is_kept_and_it_is_bounded() -> None:
    assert redact_message(f"failed\n{SECRET}") == "failed"
    assert len(redact_message("x" * 1000)) == 300


def test_an_error_is_described_by_types_and_sqlstate_only() -> None:
    error = _raised()
    assert describe(error) == "RuntimeError < _PgError [SQLSTATE 22021]"
    text = safe_traceback(error)
    assert SECRET not in text
    assert "_PgError" in text and "RuntimeError" in text and "SQLSTATE 22021" in text
    assert "The above exception was the direct cause" in text


def test_a_formatted_traceback_keeps_its_frames_not_its_message() -> None:
    error = _raised()
    formatted = "".join(traceback.format_exception(error))
    assert SECRET in formatted  # what OpenTelemetry would record as it is
    redacted = redact_stacktrace(formatted)
    assert SECRET not in redacted
    assert "Traceback (most recent call last):" in redacted
    assert "in _raised" in redacted
