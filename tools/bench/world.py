"""The bench's communities: bots, channels and admin chats, members, and seeded threads.

Everything goes through the emulator's control API as members and admins, so
the emulator knows every chat and message the load later presses buttons on.
Each community has an admin chat (moderation cards are sent, not refused) and a
few approved confessions with comments to browse.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from services.gateway.registry import webhook_secret
from tools.bench.counters import PG_SETTINGS
from tools.devstack.infra import lifecycle
from tools.devstack.infra.config import InfraConfig
from tools.devstack.ports import Ports
from tools.devstack.stack import REPO_ROOT, Stack

FIRST_BOT_ID = 7100000001
ADMIN_ID = 5100000001
FIRST_MEMBER_ID = 8_000_000_000


def bench_stack(extra_env: dict[str, str] | None = None) -> tuple[InfraConfig, Stack]:
    """The bench's stack under ``.veil/bench`` (what a last run left is destroyed):
    counted Postgres, quiet logs, and a rate limit no bench member reaches."""
    cfg = InfraConfig.shifted(REPO_ROOT / ".veil" / "bench", 200, pg_settings=PG_SETTINGS)
    lifecycle.destroy(cfg)
    stack = Stack(
        cfg,
        ports=Ports.ephemeral(),
        attached=True,
        log_level="WARNING",
        extra_env={
            "VEIL_RATE_LIMIT_BURST": "1000",
            "VEIL_RATE_LIMIT_PER_MINUTE": "100000",
            **(extra_env or {}),
        },
    )
    return cfg, stack


@dataclass
class BenchCommunity:
    """One community of the bench, as the k6 script needs it."""

    id: int
    bot_id: int
    token: str
    url: str
    secret: str
    admin_chat: int
    numbers: list[int]

    def to_config(self) -> dict[str, Any]:
        """The k6 config entry."""
        return {
            "id": self.id,
            "bot_id": self.bot_id,
            "token": self.token,
            "url": self.url,
            "secret": self.secret,
            "admin_chat": self.admin_chat,
            "admin": ADMIN_ID,
            "numbers": self.numbers,
        }


class Control:
    """The emulator's control API."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self._http = http
        self._base = f"{base}/control"

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """One control call; raises with the emulator's answer on failure."""
        async with self._http.request(method, self._base + path, json=body) as response:
            payload = await response.json(content_type=None)
            if response.status >= 400:
                raise RuntimeError(f"{method} {path} → {response.status}: {payload}")
            if isinstance(payload, dict) and payload.get("status") not in (None, 200):
                raise RuntimeError(f"{method} {path}: webhook answered {payload}")
            return payload

    async def last(self, bot: int, chat: int, n: int) -> list[dict[str, Any]]:
        """The newest ``n`` messages of a chat, oldest first."""
        result = await self.call("GET", f"/bots/{bot}/chats/{chat}/messages?last={n}")
        return list(result["messages"])


def _data(message: dict[str, Any], prefix: str) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [
        b["callback_data"]
        for row in rows
        for b in row
        if b.get("callback_data", "").startswith(prefix)
    ]


async def _wait_webhook(control: Control, bot_id: int) -> None:
    deadline = time.monotonic() + 30
    while not (await control.call("GET", f"/bots/{bot_id}/webhook")).get("url"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the gateway never set the webhook of bot {bot_id}")
        await asyncio.sleep(0.2)


async def _seed(control: Control, bot: int, admin_chat: int, author: int, threads: int) -> None:
    """``threads`` approved confessions with two comments each."""
    user = f"/bots/{bot}/users/{author}"
    for n in range(threads):
        await control.call("POST", f"{user}/messages", {"text": "✍️ New confession"})
        await control.call("POST", f"{user}/messages", {"text": f"seeded confession {n}"})
        preview = [m for m in await control.last(bot, author, 4) if _data(m, "d:send:")][-1]
        data = _data(preview, "d:send:")[0]
        await control.call(
            "POST", f"{user}/press", {"message_id": preview["message_id"], "data": data}
        )
    # Each card pressed once, found among the chat's newest messages whatever
    # else the chat received meanwhile.
    approved: set[int] = set()
    deadline = time.monotonic() + 60
    while len(approved) < threads:
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"moderation cards never arrived in the admin chat: "
                f"{len(approved)} of {threads} approved"
            )
        for card in await control.last(bot, admin_chat, 4 * threads):
            approve = _data(card, "mod:approve:")
            if not approve or card["message_id"] in approved:
                continue
            await control.call(
                "POST",
                f"/bots/{bot}/press",
                {
                    "user_id": ADMIN_ID,
                    "chat_id": admin_chat,
                    "message_id": card["message_id"],
                    "data": approve[0],
                },
            )
            approved.add(card["message_id"])
        await asyncio.sleep(0.2)
    for number in range(1, threads + 1):
        for text in ("first seeded comment", "second seeded comment"):
            await control.call("POST", f"{user}/start", {"payload": f"c_{number}"})
            # The newest message with buttons: the worker's notices land meanwhile.
            thread = [m for m in await control.last(bot, author, 4) if _data(m, "cc:")][-1]
            compose = _data(thread, "cc:")
            if not compose:
                raise RuntimeError(f"thread {number} has no comment button: {thread}")
            await control.call(
                "POST", f"{user}/press", {"message_id": thread["message_id"], "data": compose[0]}
            )
            await control.call("POST", f"{user}/messages", {"text": text})


async def build(
    stack: Stack, communities: int, members: int, threads: int
) -> tuple[list[BenchCommunity], list[tuple[int, int]]]:
    """Create the communities, register ``members`` spread over them, seed threads."""
    result: list[BenchCommunity] = []
    key = stack.secrets()["webhook_secret_key"].encode()
    secret_part = stack.secrets()["demo_bot_token"].split(":")[1]
    async with aiohttp.ClientSession() as http:
        control = Control(http, stack.emulator_url)
        for index in range(communities):
            bot_id = FIRST_BOT_ID + index
            channel, admin_chat = -1007100000000 - 2 * index, -1007100000001 - 2 * index
            for chat_id, kind in ((channel, "channel"), (admin_chat, "supergroup")):
                await control.call(
                    "POST",
                    "/chats",
                    {
                        "bot_id": bot_id,
                        "chat_id": chat_id,
                        "type": kind,
                        "title": f"Bench {index}",
                        "admins": [ADMIN_ID],
                        "members": [ADMIN_ID],
                        "bot_is_admin": True,
                    },
                )
            token = f"{bot_id}:{secret_part}"
            output = stack.add_community(token, channel, admin_chat, f"Bench U{index}")
            community_id = int(output.split()[1].rstrip(":"))
            result.append(
                BenchCommunity(
                    community_id,
                    bot_id,
                    token,
                    f"{stack.gateway_url}/webhook/{community_id}",
                    webhook_secret(key, community_id, bot_id),
                    admin_chat,
                    list(range(1, threads + 1)),
                )
            )
        # The gateway starts in the main thread: it dies with the thread that
        # spawned it (PR_SET_PDEATHSIG), and asyncio.to_thread's threads end.
        stack.start_gateway()
        for community in result:
            await _wait_webhook(control, community.bot_id)
        roster = [(FIRST_MEMBER_ID + i, i % communities) for i in range(members)]
        semaphore = asyncio.Semaphore(8)

        async def start(user: int, index: int) -> None:
            async with semaphore:
                await control.call("POST", f"/bots/{result[index].bot_id}/users/{user}/start", {})

        await asyncio.gather(*[start(u, i) for u, i in roster])
        await asyncio.gather(
            *[
                _seed(control, c.bot_id, c.admin_chat, roster[i][0], threads)
                for i, c in enumerate(result)
            ]
        )
    return result, roster
