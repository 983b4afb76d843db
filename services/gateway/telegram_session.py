"""The gateway's HTTP session to the Bot API."""

from __future__ import annotations

import time
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

from services.gateway.metrics import GatewayMetrics


class BotApiSession(AiohttpSession):
    """aiogram's aiohttp session, minus a model class built on every call.

    aiogram parses each answer with ``Response[method.__returning__]``;
    pydantic caches parametrised generics only weakly, so the class is built
    again for nearly every call (about a tenth of the gateway's CPU per
    update). Holding the classes here keeps pydantic's cache warm.

    Every call is counted by method and Telegram's answer code (``network``
    when none came) and timed, in ``metrics``.
    """

    def __init__(self, metrics: GatewayMetrics | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._response_models: dict[Any, type[Response[Any]]] = {}
        self._metrics = metrics

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature
    ) -> TelegramType:
        """Make the call as aiogram does, counted and timed."""
        if self._metrics is None:
            return await super().make_request(bot, method, timeout)
        started = time.perf_counter()
        name = method.__api_method__
        try:
            return await super().make_request(bot, method, timeout)
        except TelegramNetworkError:
            self._metrics.bot_api_calls.labels(name, "network").inc()
            raise
        finally:
            self._metrics.bot_api_seconds.labels(name).observe(time.perf_counter() - started)

    def check_response(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        status_code: int,
        content: str,
    ) -> Response[TelegramType]:
        """Parse the answer as aiogram does, with the response model kept alive."""
        returning = method.__returning__
        if returning not in self._response_models:
            self._response_models[returning] = Response[returning]  # type: ignore[valid-type]
        if self._metrics is not None:
            self._metrics.bot_api_calls.labels(method.__api_method__, str(status_code)).inc()
        return super().check_response(bot, method, status_code, content)
