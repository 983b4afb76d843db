"""The emulator in-process on 127.0.0.1, a real aiogram Bot, and a webhook receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.support.emulator import Emulator, Receiver
from tools.telegram_emulator.app import create_app


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    """A fresh emulator per test (fast retries so failure paths take milliseconds)."""
    server = TestServer(create_app(retry_delay=0.01, webhook_retries=3), host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as http:
        emu = Emulator(str(server.make_url("")).rstrip("/"), http)
        yield emu
        for bot in emu.bots:
            await bot.session.close()
    await server.close()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A webhook receiver on 127.0.0.1."""
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/hook", rec.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    rec.url = str(server.make_url("/hook"))
    yield rec
    await server.close()
