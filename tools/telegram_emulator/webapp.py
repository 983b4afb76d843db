"""Mini App launch data: the ``initData`` Telegram hands a Web App it opens.

``POST /control/bots/{bot}/users/{user}/webapp`` returns what a Telegram
client would pass to the bot's Mini App for that user: ``init_data`` (the
query string the page reads as ``Telegram.WebApp.initData``) and ``fragment``
(the ``#tgWebAppData=…`` a client appends to the Mini App's URL). It is signed
with the bot's token as https://core.telegram.org/bots/webapps describes, so
only a bot that has called the Bot API (its token is known) can be asked.
``auth_date`` may be given to make stale data on purpose.

Written apart from the gateway's check on purpose: the two implementations of
the documented algorithm meet only in the tests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from tools.telegram_emulator.errors import bad_request
from tools.telegram_emulator.model import BotState, now
from tools.telegram_emulator.params import Params
from tools.telegram_emulator.state import Emulator


def sign(bot_token: str, fields: dict[str, str]) -> str:
    """``fields`` plus their ``hash`` as a query string (Telegram's initData)."""
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    digest = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode({**fields, "hash": digest}, quote_via=quote)


def set_chat_menu_button(em: Emulator, bot: BotState, params: Params) -> bool:
    """setChatMenuButton: one private chat's menu button, or the default (no chat_id)."""
    chat_id = params.integer("chat_id")
    if chat_id is not None and bot.chat(chat_id).type != "private":
        raise bad_request("chat_id must be a private chat")
    button = params.obj("menu_button", "menu button") or {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in ("commands", "web_app", "default"):
        raise bad_request("can't parse menu button")
    if button["type"] == "web_app" and not (
        isinstance(button.get("text"), str)
        and button["text"]
        and isinstance(button.get("web_app"), dict)
        and str(button["web_app"].get("url", "")).startswith(("https://", "http://"))
    ):
        raise bad_request("BUTTON_URL_INVALID")
    bot.menu_buttons[chat_id or 0] = button
    return True


def get_chat_menu_button(em: Emulator, bot: BotState, params: Params) -> dict[str, Any]:
    """getChatMenuButton: the chat's own, else the default."""
    chat_id = params.integer("chat_id") or 0
    return bot.menu_buttons.get(chat_id) or bot.menu_buttons.get(0) or {"type": "default"}


def routes(emulator: Emulator) -> list[web.RouteDef]:
    """The control route that hands out initData."""

    async def init_data(request: web.Request) -> web.Response:
        bot = emulator.world.bot(int(request.match_info["bot_id"]))
        if bot.token is None:
            return web.json_response(
                {"error": "the bot has not called the Bot API yet: its token is unknown"},
                status=409,
            )
        body: dict[str, Any] = await request.json() if request.can_read_body else {}
        user = bot.user(int(request.match_info["user_id"]), body.get("first_name"))
        fields = {
            "query_id": "AA" + secrets.token_urlsafe(16),
            "user": json.dumps(
                user.to_api() | {"allows_write_to_pm": True},
                separators=(",", ":"),
                ensure_ascii=False,
            ),
            "auth_date": str(int(body.get("auth_date", now()))),
        }
        if body.get("start_param"):
            fields["start_param"] = str(body["start_param"])
        signed = sign(bot.token, fields)
        return web.json_response(
            {"init_data": signed, "fragment": "tgWebAppData=" + quote(signed, safe="")}
        )

    return [
        web.post("/control/bots/{bot_id:-?\\d+}/users/{user_id:\\d+}/webapp", init_data),
    ]
