"""The gateway's bound on updates in flight (``VEIL_MAX_UPDATES_IN_FLIGHT``).

An update holds Redis connections from its claim to its "done", and
redis-py's cluster client refuses a command when a node's pool is used up
rather than waiting for a connection. So the pool is sized to the bound
(``GatewaySettings.redis_connections_per_node``), and a burst past the bound
waits here, in arrival order, with its request open.
"""

from __future__ import annotations

import asyncio
from types import TracebackType


class UpdateSlots:
    """``async with slots:`` around an update's claim, handling and "done".

    ``busy`` and ``waiting`` are plain counters that the metrics read when
    Prometheus scrapes (services/gateway/metrics.py): nothing is written to a
    series per update.
    """

    def __init__(self, size: int) -> None:
        self.busy = 0
        self.waiting = 0
        self._free = asyncio.Semaphore(size)

    async def __aenter__(self) -> None:
        self.waiting += 1
        try:
            await self._free.acquire()
        finally:
            self.waiting -= 1
        self.busy += 1

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.busy -= 1
        self._free.release()
