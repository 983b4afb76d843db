"""JSON logging for every Veil process.

One JSON object per line on stderr, with the ``trace_id`` and ``span_id`` of
the span it was logged in (when tracing is on). Call sites never log Telegram ids, names
or message text; a filter also drops aiogram's per-update chatter, which would
otherwise cost CPU on the hot path.
"""

from __future__ import annotations

import logging
import sys
from types import TracebackType

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter

from veil.core.redact import safe_traceback

_ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


class TraceContextFilter(logging.Filter):
    """Adds ``trace_id`` and ``span_id`` of the current span, so a log line leads to its trace."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Tag ``record``; never drops it."""
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            record.trace_id = format(context.trace_id, "032x")
            record.span_id = format(context.span_id, "016x")
        return True


class SafeJsonFormatter(JsonFormatter):
    """JSON lines whose tracebacks keep frames and exception types, never messages.

    An exception's message may quote member text (a statement's parameters, a
    value a driver refused); see veil.core.redact.
    """

    def formatException(self, ei: _ExcInfo) -> str:  # type: ignore[override]
        """The traceback of ``ei`` without any exception message."""
        error = ei[1]
        return safe_traceback(error) if error is not None else ""


def configure_logging(service: str, level: str = "INFO") -> None:
    """Route all logging to stderr as JSON lines tagged with ``service``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        SafeJsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            static_fields={"service": service},
        )
    )
    handler.addFilter(TraceContextFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiogram logs every handled update at INFO; that is per-update work with no
    # operational value here (our own webhook handler logs failures).
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
