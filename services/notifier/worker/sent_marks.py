"""Marking sent messages with group commit: one statement for all answered meanwhile.

A message Telegram accepted is marked ``sent`` at once: until that commit a
crash makes Telegram get it twice, and the chat's next message waits for it.
When no mark is being written, a message's mark leaves alone, at once (an
idle worker adds no delay); while one is being written, the messages answered
meanwhile wait for it to finish and then leave together in one UPDATE. Under
load the worker writes one statement per batch of answers instead of one per
message, and a mark never waits longer than the one statement before it.
"""

from __future__ import annotations

import asyncio

from services.notifier.repository import NotifierRepository


class SentMarks:
    """Marks messages sent, batching the marks that arrive while one is written."""

    def __init__(self, repository: NotifierRepository) -> None:
        self._repository = repository
        self._waiting: list[tuple[int, int | None, bool, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def mark(
        self, message_id: int, sent_message_id: int | None, *, unreported: bool = False
    ) -> None:
        """Mark one message sent; returns once the mark is committed (raises if it failed).

        ``unreported``: a channel post whose id the confessions service has yet to get."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((message_id, sent_message_id, unreported, done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())
        await done

    async def _write(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    await self._repository.mark_sent_many([(i, m, u) for i, m, u, _ in batch])
                except Exception as error:
                    # Each caller logs it; their leases run out and they are sent again.
                    for *_, done in batch:
                        if not done.done():
                            done.set_exception(error)
                else:
                    for *_, done in batch:
                        if not done.done():
                            done.set_result(None)
        finally:
            self._writer = None
