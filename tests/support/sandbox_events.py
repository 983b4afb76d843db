"""Read the sandbox's server-sent event stream (``/sandbox/api/bots/{bot}/events``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp


class Stream:
    """One open ``/sandbox/api/bots/{bot}/events`` stream, read event by event."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def next(self) -> tuple[str, dict[str, Any]]:
        """The next event (name, data); comment lines (heartbeats) are skipped."""
        name, data = "message", ""
        while True:
            line = (await asyncio.wait_for(self._response.content.readline(), 10)).decode()
            if line.startswith("event: "):
                name = line[len("event: ") :].strip()
            elif line.startswith("data: "):
                data += line[len("data: ") :].strip()
            elif line == "\n" and data:
                return name, json.loads(data)

    async def message(self, chat_id: int, wanted: str) -> dict[str, Any]:
        """The next ``message`` event of ``chat_id`` whose text or caption contains ``wanted``."""
        while True:
            name, data = await self.next()
            shown = data.get("text") or data.get("caption") or ""
            if name == "message" and data["chat_id"] == chat_id and wanted in shown:
                return data

    async def chats(self) -> dict[str, Any]:
        """The next ``chats`` event."""
        while True:
            name, data = await self.next()
            if name == "chats":
                return data


@asynccontextmanager
async def stream(
    http: aiohttp.ClientSession, emulator_url: str, bot_id: int
) -> AsyncIterator[Stream]:
    """The bot's event stream, open for the block."""
    url = f"{emulator_url}/sandbox/api/bots/{bot_id}/events"
    async with http.get(url) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        yield Stream(response)
