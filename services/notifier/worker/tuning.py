"""How a worker is tuned: its settings, retry backoff and the per-community limits it uses."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass

from services.notifier.repository import NotifierRepository
from services.notifier.worker.flood_limiter import Limits


@dataclass(frozen=True)
class SenderConfig:
    """Tuning of one worker (from :class:`WorkerSettings`)."""

    worker_id: str
    lease_seconds: float
    batch_size: int
    max_in_flight: int
    poll_seconds: float
    max_attempts: int
    backoff_base_seconds: float
    backoff_cap_seconds: float
    refresh_seconds: float
    defaults: Limits


def backoff(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter for the ``attempt``-th failure (1-based)."""
    return random.uniform(base / 2, min(cap, base * 2 ** (attempt - 1)))


class LimitsCache:
    """Per-community limits from the notifier schema, defaults where none are set."""

    def __init__(self, repository: NotifierRepository, defaults: Limits, refresh: float) -> None:
        self._repository = repository
        self._defaults = defaults
        self._refresh = refresh
        self._limits: dict[int, Limits] = {}
        self._loaded_at = float("-inf")
        self._lock = asyncio.Lock()

    async def get(self, community_id: int) -> Limits:
        """The limits a community's bot sends under."""
        if time.monotonic() - self._loaded_at >= self._refresh:
            async with self._lock:
                if time.monotonic() - self._loaded_at >= self._refresh:
                    rows = await self._repository.all_limits()
                    d = self._defaults
                    self._limits = {
                        r.community_id: Limits(
                            r.per_second or d.per_second,
                            r.per_private_chat_per_second or d.per_private_chat_per_second,
                            r.per_group_per_minute or d.per_group_per_minute,
                        )
                        for r in rows
                    }
                    self._loaded_at = time.monotonic()
        return self._limits.get(community_id, self._defaults)
