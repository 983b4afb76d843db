"""Delivering updates to a bot's webhook the way Telegram does.

One update at a time per chat (the next waits for the previous answer), at
most ``max_connections`` requests at once per bot, the secret token in
``X-Telegram-Bot-Api-Secret-Token``, and a non-2xx answer or a connection
error retried after a growing pause (tools/telegram_emulator/retry.py). A 2xx
answer may carry a Bot API call (``{"method": ...}``), which is executed like
Telegram does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from tools.telegram_emulator.errors import BotApiError
from tools.telegram_emulator.faults import Disconnect
from tools.telegram_emulator.methods import call
from tools.telegram_emulator.model import MAX_RECORDED_DELIVERIES, BotState, now
from tools.telegram_emulator.params import Params
from tools.telegram_emulator.retry import RetrySchedule
from tools.telegram_emulator.state import Emulator

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class Delivery:
    """How an update's delivery ended: last HTTP status (None: never answered)."""

    update_id: int
    status: int | None
    attempts: int

    def to_json(self) -> dict[str, Any]:
        """The control API's view."""
        return {"update_id": self.update_id, "status": self.status, "attempts": self.attempts}


@dataclass
class _ChatLock:
    """One chat's delivery order, and how many deliveries hold or wait for it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


def chat_of(update: dict[str, Any]) -> int:
    """The chat an update belongs to (the unit Telegram keeps in order)."""
    for kind in ("message", "edited_message", "channel_post", "my_chat_member", "chat_member"):
        if kind in update:
            return int(update[kind]["chat"]["id"])
    query = update.get("callback_query")
    if query is not None:
        message = query.get("message")
        return int(message["chat"]["id"] if message else query["from"]["id"])
    return 0


class Deliverer:
    """Sends updates to webhooks, and queues them for getUpdates without one."""

    def __init__(self, emulator: Emulator, *, schedule: RetrySchedule, timeout: float) -> None:
        self._emulator = emulator
        self._schedule = schedule
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._http: aiohttp.ClientSession | None = None
        self._chat_locks: dict[tuple[int, int], _ChatLock] = {}
        self._connections: dict[int, tuple[int, asyncio.Semaphore]] = {}

    async def start(self) -> None:
        """Open the HTTP client (inside the running loop)."""
        self._http = aiohttp.ClientSession(timeout=self._timeout)

    async def close(self) -> None:
        """Close the HTTP client."""
        if self._http is not None:
            await self._http.close()

    def _slots(self, bot: BotState, size: int) -> asyncio.Semaphore:
        current = self._connections.get(bot.id)
        if current is None or current[0] != size:
            current = self._connections[bot.id] = (size, asyncio.Semaphore(size))
        return current[1]

    async def deliver(self, bot: BotState, update: dict[str, Any]) -> Delivery:
        """Deliver one update and wait for the outcome (recorded in ``bot.deliveries``)."""
        record = _record(bot, update["update_id"])
        delivery = await self._deliver(bot, update, record)
        if record["state"] == "pending":
            ok = delivery.status is not None and 200 <= delivery.status < 300
            record["state"] = "delivered" if ok else "failed" if delivery.attempts else "not sent"
        return delivery

    async def _deliver(
        self, bot: BotState, update: dict[str, Any], record: dict[str, Any]
    ) -> Delivery:
        em = self._emulator
        if bot.webhook is None:
            bot.polled.append(update)
            em.poll_event(bot.id).set()
            return Delivery(update["update_id"], None, 0)
        if not bot.webhook.wants(update):
            return Delivery(update["update_id"], None, 0)
        key = (bot.id, chat_of(update))
        entry = self._chat_locks.setdefault(key, _ChatLock())
        entry.users += 1
        bot.in_delivery += 1
        try:
            async with entry.lock:
                return await self._attempts(bot, update, record)
        finally:
            bot.in_delivery -= 1
            entry.users -= 1
            # A chat nobody delivers to holds no lock: memory stays bounded over a long run.
            if entry.users == 0:
                del self._chat_locks[key]

    @property
    def chats_in_delivery(self) -> int:
        """Chats with an update being delivered or waiting for the previous one."""
        return len(self._chat_locks)

    async def _attempts(
        self, bot: BotState, update: dict[str, Any], record: dict[str, Any]
    ) -> Delivery:
        body = orjson.dumps(update)
        status: int | None = None
        attempts = 0
        for attempt in range(1, self._schedule.attempts + 1):
            hook = bot.webhook
            if hook is None:
                break  # removed while retrying: report the attempts really made
            attempts = record["attempts"] = attempt
            headers = {"Content-Type": "application/json"}
            if hook.secret_token:
                headers[SECRET_HEADER] = hook.secret_token
            try:
                async with self._slots(bot, hook.max_connections):
                    assert self._http is not None
                    async with self._http.post(hook.url, data=body, headers=headers) as response:
                        status = response.status
                        reply = await response.read()
                        reason = response.reason
            except (aiohttp.ClientError, TimeoutError) as error:
                status, problem = None, _describe(error)
                record["status"] = None
            else:
                record["status"] = status
                if 200 <= status < 300:
                    self._emulator.stats["updates_delivered"] += 1
                    await self._run_reply(bot, reply)
                    return Delivery(update["update_id"], status, attempt)
                problem = f"Wrong response from the webhook: {status} {reason}"
            self._emulator.stats["webhook_failures"] += 1
            hook.last_error_date, hook.last_error_message = now(), problem
            record["error"] = problem
            if attempt < self._schedule.attempts:
                self._emulator.stats["webhook_retries"] += 1
                await asyncio.sleep(self._schedule.pauses[attempt - 1])
        return Delivery(update["update_id"], status, attempts)

    async def _run_reply(self, bot: BotState, reply: bytes) -> None:
        """Execute a Bot API call returned in the webhook answer."""
        if not reply.strip():
            return
        try:
            payload = orjson.loads(reply)
        except orjson.JSONDecodeError:
            return
        if not isinstance(payload, dict) or not isinstance(payload.get("method"), str):
            return
        method = payload.pop("method")
        # Telegram gives the bot no answer to a webhook reply; the call log has it.
        with contextlib.suppress(BotApiError, Disconnect):
            await call(self._emulator, bot, method, Params(payload))


def _record(bot: BotState, update_id: int) -> dict[str, Any]:
    """A fresh delivery record of one update (a redelivery starts it again)."""
    record: dict[str, Any] = {
        "update_id": update_id,
        "state": "pending",
        "attempts": 0,
        "status": None,
        "error": "",
    }
    bot.deliveries.pop(update_id, None)
    bot.deliveries[update_id] = record
    while len(bot.deliveries) > MAX_RECORDED_DELIVERIES:
        bot.deliveries.popitem(last=False)
    return record


def _describe(error: BaseException) -> str:
    if isinstance(error, TimeoutError | aiohttp.ServerTimeoutError):
        return "Read timeout expired"
    if isinstance(error, aiohttp.ClientConnectorError):
        return "Connection refused"
    return f"Connection failed: {type(error).__name__}"
