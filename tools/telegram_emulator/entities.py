"""Entities Telegram's clients and server find in text a user types: bot
commands, @mentions, e-mail addresses, URLs and phone numbers.

Text sent through the control API (tests, the sandbox) is given these, in
UTF-16 code units as the Bot API counts them, so a bot sees them as it would
on Telegram. The patterns follow what Telegram tags closely enough for tests:
a username is 5-32 letters, digits and underscores after "@"; a phone number
is an international one ("+" and 7-15 digits, spaces or dashes between).
"""

from __future__ import annotations

import re
from typing import Any

_UTF16 = "utf-16-le"
_PATTERNS = (
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{5,32})?(?!\w)")),
    ("email", re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    ("url", re.compile(r"(?<![\w@/])(?:https?://)?(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?:/[^\s]*)?")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{4,31}(?!\w)")),
    ("phone_number", re.compile(r"(?<![\w+])\+\d(?:[\s-]?\d){6,14}(?!\w)")),
)


def _utf16_offset(text: str, index: int) -> int:
    return len(text[:index].encode(_UTF16)) // 2


def detect(text: str) -> list[dict[str, Any]]:
    """The entities of ``text``, in order; an earlier match wins over one inside it."""
    spans: list[tuple[int, int, str]] = []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            if kind == "bot_command" and match.start() != 0:
                continue  # a command counts where a message starts
            start, end = match.span()
            if any(start < e and s < end for s, e, _ in spans):
                continue
            spans.append((start, end, kind))
    return [
        {
            "type": kind,
            "offset": _utf16_offset(text, start),
            "length": _utf16_offset(text, end) - _utf16_offset(text, start),
        }
        for start, end, kind in sorted(spans)
    ]
