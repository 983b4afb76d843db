"""The emulator under test, a webhook receiver, and waiting on them.

The fixtures that make them live in tests/emulator/conftest.py.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

_bot_ids = itertools.count(5_000_000_001)

Handler = Callable[[dict[str, Any]], Awaitable[int | dict[str, Any]]]


@dataclass
class Emulator:
    """An emulator under test and a client for both of its APIs."""

    url: str
    http: aiohttp.ClientSession
    bots: list[Bot] = field(default_factory=list)

    def bot(self, token: str | None = None) -> Bot:
        """A real aiogram Bot pointed at the emulator (a new bot unless a token is given)."""
        token = token or f"{next(_bot_ids)}:{secrets.token_urlsafe(27)}"
        session = AiohttpSession(api=TelegramAPIServer.from_base(self.url))
        bot = Bot(token, session=session)
        self.bots.append(bot)
        return bot

    async def control(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        """Call the control API; (status, JSON answer)."""
        async with self.http.request(method, f"{self.url}/control{path}", json=body) as response:
            return response.status, await response.json()

    async def act(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """A control POST that must succeed."""
        status, answer = await self.control("POST", path, body or {})
        assert status == 200, answer
        return dict(answer)

    async def raw(self, token: str, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
        """A Bot API call with a JSON body, as any client could send it."""
        async with self.http.post(f"{self.url}/bot{token}/{method}", json=params) as response:
            return response.status, await response.json()

    async def messages(self, bot_id: int, chat_id: int) -> list[dict[str, Any]]:
        """What the chat holds now."""
        status, answer = await self.control("GET", f"/bots/{bot_id}/chats/{chat_id}/messages")
        assert status == 200
        return list(answer["messages"])


@dataclass
class Receiver:
    """A webhook endpoint that records what arrives and answers as scripted."""

    url: str = ""
    updates: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    handler: Handler | None = None

    async def handle(self, request: web.Request) -> web.Response:
        update = await request.json()
        self.updates.append(update)
        self.headers.append(dict(request.headers))
        if self.statuses:
            return web.Response(status=self.statuses.pop(0))
        if self.handler is not None:
            outcome = await self.handler(update)
            if isinstance(outcome, dict):
                return web.json_response(outcome)
            return web.Response(status=outcome)
        return web.Response(status=200)


async def started_member(emu: Emulator, bot: Bot, user_id: int, name: str = "Ann") -> None:
    """A member who opened the bot (so the bot may write to them)."""
    await emu.act(f"/bots/{bot.id}/users/{user_id}/start", {"first_name": name})


async def wait_for(predicate: Callable[[], bool]) -> None:
    """Yield to the loop until ``predicate`` holds (bounded)."""
    for _ in range(500):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never held")
