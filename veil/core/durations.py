"""Durations as admins type them: ``90s``, ``10m``, ``12h``, ``7d``, ``2w``."""

from __future__ import annotations

import re

from veil.core.errors import InvalidInputError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PATTERN = re.compile(r"^(\d{1,6})\s*([smhdw]?)$")
MAX_SECONDS = 5 * 365 * 86400


def parse_duration(text: str, *, default_unit: str = "s") -> int:
    """Seconds in ``text`` ("10m", "7d"; a bare number is in ``default_unit``)."""
    match = _PATTERN.match(text.strip().lower())
    if match is None:
        raise InvalidInputError(
            f"{text.strip()!r} is not a duration: use a number with s, m, h, d or w, e.g. 10m or 7d"
        )
    seconds = int(match.group(1)) * _UNITS[match.group(2) or default_unit]
    if seconds > MAX_SECONDS:
        raise InvalidInputError("a duration may be at most 5 years")
    return seconds


def format_duration(seconds: int) -> str:
    """The largest whole unit: 600 → "10m", 90 → "90s", 0 → "off"."""
    if seconds <= 0:
        return "off"
    for unit, size in sorted(_UNITS.items(), key=lambda item: -item[1]):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
