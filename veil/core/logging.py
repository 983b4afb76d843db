"""JSON logging for every Veil process.

One JSON object per line on stderr. Call sites never log Telegram ids, names
or message text; a filter also drops aiogram's per-update chatter, which would
otherwise cost CPU on the hot path.
"""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter


def configure_logging(service: str, level: str = "INFO") -> None:
    """Route all logging to stderr as JSON lines tagged with ``service``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            static_fields={"service": service},
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiogram logs every handled update at INFO; that is per-update work with no
    # operational value here (our own webhook handler logs failures).
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
