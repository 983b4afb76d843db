"""What ``make up`` sets up for the sandbox: its URL and a demo admin who may moderate."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from tests.support.sandbox_events import stream
from tools.devstack.__main__ import (
    DEMO_ADMIN,
    DEMO_ADMIN_CHAT,
    DEMO_CHANNEL,
    _demo_chats,
    sandbox_url,
)
from tools.devstack.stack import Stack


async def test_the_printed_url_opens_the_sandbox_with_the_demo_admin_in_the_admin_chat(
    stack: Stack, http: aiohttp.ClientSession
) -> None:
    # A bot of its own: the demo chats are created for it as `make up` does.
    bot_id = 6_990_000_000 + int(time.time()) % 100_000
    await asyncio.to_thread(_demo_chats, stack, bot_id)
    url = sandbox_url(stack, str(bot_id))
    assert url.startswith("http://127.0.0.1:")
    async with http.get(url) as response:
        assert response.status == 200 and '<script src="app.js"' in await response.text()
    async with stream(http, stack.emulator_url, bot_id) as events:
        chats = await events.chats()
    (group,) = chats["groups"]
    assert group["id"] == DEMO_ADMIN_CHAT
    # The page acts as the admin chat's admin; the gateway checks membership.
    assert DEMO_ADMIN in [a["id"] for a in group["admins"]]
    assert DEMO_ADMIN in [m["id"] for m in group["members"]]
    assert [c["id"] for c in chats["channels"]] == [DEMO_CHANNEL]
