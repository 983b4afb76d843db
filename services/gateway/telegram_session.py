"""The gateway's HTTP session to the Bot API."""

from __future__ import annotations

import time
from typing import Any, cast

import orjson
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiohttp import ClientError, ClientTimeout

from services.gateway.metrics import GatewayMetrics
from services.gateway.webhook_reply import json_params, send_held

_JSON = {"Content-Type": "application/json"}


class BotApiSession(AiohttpSession):
    """aiogram's aiohttp session, cheaper per call and keeping the update's calls in order.

    * Parameters go as one JSON body (Telegram takes ``application/json``)
      instead of aiogram's form, which encodes every object field as JSON
      and then the whole form again; uploads still go as aiogram sends them.
    * aiogram parses each answer with ``Response[method.__returning__]``;
      pydantic caches parametrised generics only weakly, so the class was
      built again for nearly every call. Holding the classes here keeps
      pydantic's cache warm.
    * A call held for the webhook answer (services/gateway/webhook_reply.py)
      is sent before any other call of its update, so Telegram sees them in
      the order the handler made them.

    Every call is counted by method and Telegram's answer code (``network``
    when none came) and timed, in ``metrics``.
    """

    def __init__(self, metrics: GatewayMetrics | None = None, **kwargs: Any) -> None:
        super().__init__(json_loads=orjson.loads, **kwargs)
        self._response_models: dict[Any, type[Response[Any]]] = {}
        self._metrics = metrics

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 - aiogram's signature
    ) -> TelegramType:
        """Make the call (after the update's held call), counted and timed."""
        await send_held()
        if self._metrics is None:
            return await self._request(bot, method, timeout)
        started = time.perf_counter()
        name = method.__api_method__
        try:
            return await self._request(bot, method, timeout)
        except TelegramNetworkError:
            self._metrics.bot_api_calls.labels(name, "network").inc()
            raise
        finally:
            self._metrics.bot_api_seconds.labels(name).observe(time.perf_counter() - started)

    async def _request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None,  # noqa: ASYNC109 - aiogram's signature
    ) -> TelegramType:
        """One call with a JSON body; with files to upload, aiogram's own form."""
        params = json_params(bot, method)
        if params is None:
            return await super().make_request(bot, method, timeout)
        session = await self.create_session()
        url = self.api.api_url(token=bot.token, method=method.__api_method__)
        try:
            async with session.post(
                url,
                data=orjson.dumps(params),
                headers=_JSON,
                timeout=ClientTimeout(total=self.timeout if timeout is None else timeout),
            ) as resp:
                raw = await resp.text()
        except TimeoutError as error:
            raise TelegramNetworkError(method=method, message="Request timeout error") from error
        except ClientError as error:
            raise TelegramNetworkError(
                method=method, message=f"{type(error).__name__}: {error}"
            ) from error
        response = self.check_response(bot=bot, method=method, status_code=resp.status, content=raw)
        return cast(TelegramType, response.result)

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
