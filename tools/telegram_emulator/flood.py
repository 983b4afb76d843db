"""Telegram's flood limits, enforced when switched on.

Telegram lets a bot send about 30 messages per second overall, one per second
to a private chat and 20 per minute to a group or channel; beyond that it
answers 429 with ``retry_after``. Sliding windows over the moments messages
were accepted give the same answers.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from tools.telegram_emulator.errors import too_many_requests


@dataclass
class FloodLimits:
    """The limits; ``enabled`` switches the whole thing."""

    enabled: bool = False
    per_bot_per_second: int = 30
    per_private_chat_per_second: int = 1
    per_group_per_minute: int = 20

    def update(self, changes: dict[str, Any]) -> None:
        """Apply the control API's changes (unknown keys are an error)."""
        for key, value in changes.items():
            if key not in self.__dataclass_fields__:
                raise ValueError(f"unknown flood setting {key!r}")
            setattr(self, key, bool(value) if key == "enabled" else int(value))


@dataclass
class FloodControl:
    """Admits a message or raises Telegram's 429."""

    limits: FloodLimits
    _windows: dict[tuple[Any, ...], deque[float]] = field(default_factory=dict)

    def admit(self, bot_id: int, chat_id: int, chat_type: str) -> None:
        """Count one message from ``bot_id`` to ``chat_id``, or raise 429."""
        if not self.limits.enabled:
            return
        moment = time.monotonic()
        if chat_type == "private":
            chat_limit = (self.limits.per_private_chat_per_second, 1.0)
        else:
            chat_limit = (self.limits.per_group_per_minute, 60.0)
        checks = (
            (("bot", bot_id), (self.limits.per_bot_per_second, 1.0)),
            (("chat", bot_id, chat_id), chat_limit),
        )
        for key, (limit, seconds) in checks:
            window = self._windows.setdefault(key, deque())
            while window and window[0] <= moment - seconds:
                window.popleft()
            if len(window) >= limit:
                raise too_many_requests(max(1, math.ceil(window[0] + seconds - moment)))
        for key, _ in checks:
            self._windows[key].append(moment)

    def clear(self) -> None:
        """Forget every window."""
        self._windows.clear()
