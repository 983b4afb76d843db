"""A lean Bot API caller: one POST with a JSON body, Telegram's answer classified."""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson


class Outcome(enum.Enum):
    """What a Bot API answer means for the message."""

    SENT = "sent"
    FLOOD = "flood"  # 429: wait retry_after, then send again
    BLOCKED = "blocked"  # 403: the member blocked the bot (or the bot left the chat)
    REJECTED = "rejected"  # other 4xx: sending again would fail again
    TRANSIENT = "transient"  # 5xx, network error, timeout: retry with backoff


@dataclass(frozen=True)
class Answer:
    """Telegram's answer to one call."""

    outcome: Outcome
    error_code: int = 0
    description: str = ""
    retry_after: float = 0.0
    # Seconds between the request leaving and the answer arriving (0 when none came).
    latency: float = 0.0
    # The id of the message a send created (0 for other calls).
    message_id: int = 0


# "Bad Request: message is not modified" means the edit is already there: a
# redelivered edit, or one whose first answer was lost. Treating it as sent is
# what makes a repeated edit harmless.
_ALREADY_DONE = ("message is not modified",)


def classify(status: int, body: dict[str, Any]) -> Answer:
    """Classify a Bot API answer by Telegram's ``ok``/``error_code``/``parameters``."""
    if body.get("ok") is True:
        result = body.get("result")
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return Answer(Outcome.SENT, message_id=message_id if isinstance(message_id, int) else 0)
    code = int(body.get("error_code") or status)
    description = str(body.get("description") or f"HTTP {status}")
    if code == 429:
        parameters = body.get("parameters") or {}
        retry_after = float(parameters.get("retry_after") or 1)
        return Answer(Outcome.FLOOD, code, description, retry_after)
    if code == 403:
        return Answer(Outcome.BLOCKED, code, description)
    if 400 <= code < 500:
        if any(marker in description for marker in _ALREADY_DONE):
            return Answer(Outcome.SENT, code, description)
        return Answer(Outcome.REJECTED, code, description)
    return Answer(Outcome.TRANSIENT, code, description)


class BotApi:
    """Calls ``{base}/bot{token}/{method}`` over one shared keep-alive session."""

    def __init__(self, base_url: str, timeout_seconds: float, connections: int = 100) -> None:
        self._base = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        """Open the session (inside the running event loop)."""
        self._session = aiohttp.ClientSession(
            timeout=self._timeout,
            connector=aiohttp.TCPConnector(limit=self._connections, keepalive_timeout=30),
            json_serialize=lambda value: orjson.dumps(value).decode(),
        )

    async def close(self) -> None:
        """Close the session."""
        if self._session is not None:
            await self._session.close()

    async def call(self, token: str, method: str, params: dict[str, Any]) -> Answer:
        """Make one call; never raises for Telegram's or the network's failures."""
        assert self._session is not None, "start() first"
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with self._session.post(
                f"{self._base}/bot{token}/{method}", json=params
            ) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as error:
            # The call may or may not have reached Telegram: retried, so it may
            # be delivered twice (there is no idempotency on the Bot API).
            return Answer(Outcome.TRANSIENT, 0, f"network: {type(error).__name__}")
        latency = loop.time() - started
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        answer = classify(status, body)
        return Answer(
            answer.outcome,
            answer.error_code,
            answer.description,
            answer.retry_after,
            latency,
            answer.message_id,
        )
