"""Drive Veil as Telegram would: communities, members and what the bot sent.

Everything goes through the emulator's control API (members acting) and reads
back what the bot really sent; nothing is mocked.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tools.devstack.stack import Stack

_bot_ids = itertools.count(int(time.time()) % 100_000 * 1000 + 6_100_000_000)
_user_ids = itertools.count(int(time.time()) % 100_000 * 100 + 7_300_000_000)
# VEIL_NOTIFY_BATCH_SECONDS and VEIL_COUNTER_EDIT_SECONDS of the suite's stack.
PACE_SECONDS = 4.0


def new_user_id() -> int:
    """A distinctive Telegram user id (easy to find if it ever leaks into a log)."""
    return next(_user_ids)


@dataclass
class World:
    """The running stack seen from outside."""

    stack: Stack
    http: aiohttp.ClientSession
    user_ids: list[int] = field(default_factory=list)

    @dataclass
    class Community:
        """A community created for one test."""

        world: World
        id: int
        bot_id: int
        token: str
        channel_id: int
        admin_chat_id: int

        def member(self, user_id: int | None = None, first_name: str = "Alice") -> Member:
            """A member of this community (a new Telegram user unless given)."""
            uid = user_id if user_id is not None else new_user_id()
            self.world.user_ids.append(uid)
            return Member(self, uid, first_name)

    async def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call the emulator's control API; raise with its answer on failure."""
        url = f"{self.stack.emulator_url}/control{path}"
        async with self.http.request(method, url, json=body) as response:
            payload = await response.json(content_type=None)
            if response.status >= 400:
                raise AssertionError(f"{method} {path} → {response.status}: {payload}")
            return payload

    async def create_community(self, title: str = "Test University") -> Community:
        """Register a new bot as a community and wait until its webhook is set."""
        bot_id = next(_bot_ids)
        token = f"{bot_id}:{secrets.token_urlsafe(27)}"
        channel_id, admin_chat_id = -(10**12) - bot_id, -(2 * 10**12) - bot_id
        for chat_id, kind in ((channel_id, "channel"), (admin_chat_id, "supergroup")):
            await self.control(
                "POST",
                "/chats",
                {
                    "bot_id": bot_id,
                    "chat_id": chat_id,
                    "type": kind,
                    "title": title,
                    "admins": [1],
                    "members": [1],
                    "bot_is_admin": True,
                },
            )
        output = await asyncio.to_thread(
            self.stack.add_community, token, channel_id, admin_chat_id, title
        )
        community_id = int(output.split()[1].rstrip(":"))
        deadline = time.monotonic() + 15
        while True:
            info = await self.control("GET", f"/bots/{bot_id}/webhook")
            if info.get("url"):
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"webhook of community {community_id} never set: {info}")
            await asyncio.sleep(0.1)
        return World.Community(self, community_id, bot_id, token, channel_id, admin_chat_id)

    async def chat_messages(self, bot_id: int, chat_id: int) -> list[dict[str, Any]]:
        """Every message in a chat as the emulator stores it."""
        result = await self.control("GET", f"/bots/{bot_id}/chats/{chat_id}/messages")
        return list(result["messages"] if isinstance(result, dict) else result)


@dataclass
class Member:
    """A Telegram user talking to a community's bot in private."""

    community: World.Community
    user_id: int
    first_name: str

    @property
    def _world(self) -> World:
        return self.community.world

    async def send(self, text: str) -> dict[str, Any]:
        """Send a text message; returns once the webhook answered."""
        return dict(
            await self._world.control(
                "POST",
                f"/bots/{self.community.bot_id}/users/{self.user_id}/messages",
                {"text": text, "first_name": self.first_name, "username": f"u{self.user_id}"},
            )
        )

    async def start(self, payload: str | None = None) -> dict[str, Any]:
        """Open the bot (optionally through a deep link)."""
        body: dict[str, Any] = {"first_name": self.first_name, "username": f"u{self.user_id}"}
        if payload is not None:
            body["payload"] = payload
        return dict(
            await self._world.control(
                "POST", f"/bots/{self.community.bot_id}/users/{self.user_id}/start", body
            )
        )

    async def press(self, message_id: int, data: str) -> dict[str, Any]:
        """Press an inline button of a bot message in the private chat."""
        return dict(
            await self._world.control(
                "POST",
                f"/bots/{self.community.bot_id}/users/{self.user_id}/press",
                {"message_id": message_id, "data": data},
            )
        )

    async def bot_messages(self) -> list[dict[str, Any]]:
        """What the bot sent this member, oldest first (current state after edits)."""
        messages = await self._world.chat_messages(self.community.bot_id, self.user_id)
        return [m for m in messages if m.get("from_bot")]

    async def last(self) -> dict[str, Any]:
        """The bot's latest message to this member."""
        messages = await self.bot_messages()
        assert messages, "the bot sent nothing"
        return messages[-1]


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """Inline buttons of a stored message: text → callback_data (or url)."""
    markup = message.get("reply_markup") or {}
    result: dict[str, str] = {}
    for row in markup.get("inline_keyboard", []):
        for button in row:
            result[button["text"]] = button.get("callback_data") or button.get("url", "")
    return result
