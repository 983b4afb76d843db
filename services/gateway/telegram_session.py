"""The gateway's HTTP session to the Bot API."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType


class BotApiSession(AiohttpSession):
    """aiogram's aiohttp session, minus a model class built on every call.

    aiogram parses each answer with ``Response[method.__returning__]``;
    pydantic caches parametrised generics only weakly, so the class is built
    again for nearly every call (about a tenth of the gateway's CPU per
    update). Holding the classes here keeps pydantic's cache warm.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._response_models: dict[Any, type[Response[Any]]] = {}

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
        return super().check_response(bot, method, status_code, content)
