"""Control API for group settings: the bot's rights and privacy mode, members' standing."""

from __future__ import annotations

from aiohttp import web

from tools.telegram_emulator.control import ControlError, _body
from tools.telegram_emulator.model import BotState, Chat
from tools.telegram_emulator.state import Emulator

MEMBER_STATUSES = ("member", "administrator", "restricted", "left")


class GroupControl:
    """Handlers of ``/control/bots/{bot_id}/privacy`` and ``…/chats/{chat_id}/…``."""

    def __init__(self, emulator: Emulator) -> None:
        self._em = emulator

    def routes(self) -> list[web.RouteDef]:
        """Every group control route."""
        bot = "/control/bots/{bot_id:-?\\d+}"
        chat = bot + "/chats/{chat_id:-\\d+}"
        return [
            web.post(bot + "/privacy", self.privacy),
            web.post(chat + "/bot", self.bot_rights),
            web.post(chat + "/members/{user_id:\\d+}", self.member),
        ]

    def _bot(self, request: web.Request) -> BotState:
        return self._em.world.bot(int(request.match_info["bot_id"]))

    def _group(self, bot: BotState, request: web.Request) -> Chat:
        chat = bot.chats.get(int(request.match_info["chat_id"]))
        if chat is None or chat.type == "private":
            raise ControlError(f"no group {request.match_info['chat_id']} for bot {bot.id}", 404)
        return chat

    async def privacy(self, request: web.Request) -> web.Response:
        """BotFather's /setprivacy: ``{"enabled": false}`` lets the bot read every message."""
        body = await _body(request)
        bot = self._bot(request)
        bot.privacy_mode = bool(body["enabled"])
        return web.json_response({"privacy_mode": bot.privacy_mode})

    async def bot_rights(self, request: web.Request) -> web.Response:
        """Promote or demote the bot in a group: ``{"is_admin": bool}``."""
        body = await _body(request)
        bot = self._bot(request)
        chat = self._group(bot, request)
        chat.bot_is_admin = bool(body["is_admin"])
        return web.json_response({"chat": chat.to_api(), "bot_is_admin": chat.bot_is_admin})

    async def member(self, request: web.Request) -> web.Response:
        """Set a user's standing in a group as ``getChatMember`` will report it.

        ``{"status": "restricted", "is_member": false}`` is a restricted user who
        left; ``member``, ``administrator`` and ``left`` lift any restriction.
        """
        body = await _body(request)
        bot = self._bot(request)
        chat = self._group(bot, request)
        user_id = int(request.match_info["user_id"])
        status = body.get("status")
        if status not in MEMBER_STATUSES:
            raise ControlError(f"status must be one of {', '.join(MEMBER_STATUSES)}")
        bot.user(user_id)
        chat.restricted.pop(user_id, None)
        chat.admins.discard(user_id)
        chat.members.discard(user_id)
        if status == "restricted":
            chat.restricted[user_id] = bool(body.get("is_member", True))
        elif status == "administrator":
            chat.admins.add(user_id)
        elif status == "member":
            chat.members.add(user_id)
        return web.json_response({"ok": True})
