"""Periodic pruning of tables that grow: one background task per owning process.

Each service that owns a growing table (sent outbox rows, dead letters, member
events, pacing rows) prunes it itself, in batches, every ``interval`` seconds;
two replicas pruning at once delete disjoint or already-deleted rows, so
nothing needs coordinating.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack, suppress

log = logging.getLogger(__name__)

Prune = Callable[[], Awaitable[dict[str, int]]]


def start_pruner(closing: AsyncExitStack, interval: float, prune: Prune) -> None:
    """Run ``prune`` now and then every ``interval`` seconds until ``closing`` closes.

    ``prune`` returns how many rows it removed per table (logged when any).
    A failure is logged and retried at the next interval.
    """

    async def loop() -> None:
        while True:
            try:
                removed = await prune()
                if any(removed.values()):
                    log.info("retention pruned rows", extra={"removed": removed})
            except Exception:
                log.exception("retention prune failed")
            await asyncio.sleep(interval)

    task = asyncio.get_running_loop().create_task(loop(), name="retention")

    async def stop() -> None:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task

    closing.push_async_callback(stop)
