"""The sandbox: a web page beside the emulator to be every party at once.

``/sandbox/`` serves a static page (one HTML, one JS, one CSS file) that shows
a member's private chat with a bot, the admin group and the channel side by
side. It acts only through the control API, like ``make chat``; the bot side
stays the real gateway. What the page shows comes from
``/sandbox/api/bots/{bot}/events``, a server-sent event stream pushed from the
emulator's state: every Bot API or control call that may change something
wakes the streams, which send each message that is new or changed (edited,
deleted) since they last looked.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

from tools.telegram_emulator.model import BotState, Message
from tools.telegram_emulator.state import Emulator

STATIC = Path(__file__).resolve().parent / "static"
# A comment line this often keeps proxies and the browser from closing an idle stream.
HEARTBEAT_SECONDS = 15.0
# Changes arriving within this pause are sent together (a card and its edit, say).
COALESCE_SECONDS = 0.05


class Changes:
    """Wakes the event streams when the emulator's state may have changed."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.closed = False

    def bump(self) -> None:
        """Something changed: wake every waiting stream."""
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        """Until the next change (or ``seconds`` pass, or shutdown)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), seconds)

    def close(self) -> None:
        """Let every stream end (the emulator is shutting down)."""
        self.closed = True
        self.bump()


def _name(bot: BotState, user_id: int) -> str:
    user = bot.users.get(user_id)
    return user.first_name if user is not None else str(user_id)


def _people(bot: BotState, ids: set[int]) -> list[dict[str, Any]]:
    return [{"id": uid, "first_name": _name(bot, uid)} for uid in sorted(ids)]


def chats_of(bot: BotState) -> dict[str, Any]:
    """The bot, its members (private chats), groups and channels, as the page lists them."""
    members, groups, channels = [], [], []
    for chat in bot.chats.values():
        if chat.type == "private":
            members.append({"id": chat.id, "first_name": _name(bot, chat.id)})
        elif chat.type == "channel":
            channels.append({"id": chat.id, "title": chat.title, "username": chat.username})
        else:
            groups.append(
                {
                    "id": chat.id,
                    "title": chat.title,
                    "type": chat.type,
                    "admins": _people(bot, chat.admins),
                    "members": _people(bot, chat.members),
                }
            )
    me = bot.me()
    return {
        "bot": {"id": bot.id, "username": me.username, "first_name": me.first_name},
        "members": sorted(members, key=lambda m: m["id"]),
        "groups": groups,
        "channels": channels,
    }


def record_of(message: Message) -> dict[str, Any]:
    """A message as the page renders it: the control API's record plus what it lacks."""
    sender = message.sender_chat
    return message.to_record() | {
        "chat_id": message.chat.id,
        "caption_entities": message.caption_entities,
        "sender_chat": sender.to_api() if sender is not None else None,
    }


class Sandbox:
    """The page's routes, its event streams and the middleware that wakes them."""

    def __init__(self, emulator: Emulator) -> None:
        self._em = emulator
        self._changes = Changes()

    @web.middleware
    async def track_changes(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """After a call that may change a chat (a bot's call, a control POST), wake the streams."""
        try:
            return await handler(request)
        finally:
            path = request.path
            method = path.rsplit("/", 1)[-1].lower()
            bot_call = path.startswith("/bot") and not method.startswith("get")
            if bot_call or (path.startswith("/control/") and request.method == "POST"):
                self._changes.bump()

    async def close(self, app: web.Application) -> None:
        """On shutdown: end the streams so that the server stops at once."""
        self._changes.close()

    def routes(self) -> list[web.RouteDef]:
        """The page, its static files, the list of bots and the event stream."""
        return [
            web.get("/sandbox", self.redirect),
            web.get("/sandbox/", self.page),
            web.get("/sandbox/{name:app\\.js|style\\.css}", self.static),
            web.get("/sandbox/api/bots", self.bots),
            web.get("/sandbox/api/bots/{bot_id:\\d+}/events", self.events),
        ]

    async def redirect(self, request: web.Request) -> web.StreamResponse:
        """``/sandbox`` → ``/sandbox/`` (keeping the query), so relative URLs work."""
        raise web.HTTPFound(request.rel_url.with_path("/sandbox/").with_query(request.query))

    async def page(self, request: web.Request) -> web.StreamResponse:
        """The page itself."""
        return web.FileResponse(STATIC / "index.html")

    async def static(self, request: web.Request) -> web.StreamResponse:
        """The page's script and style sheet."""
        return web.FileResponse(STATIC / request.match_info["name"])

    async def bots(self, request: web.Request) -> web.Response:
        """Every bot with a webhook (the ones a gateway serves), with their chats."""
        return web.json_response(
            {
                "bots": [
                    chats_of(bot) for bot in self._em.world.bots.values() if bot.webhook is not None
                ]
            }
        )

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events of one bot: ``chats`` when its chats change, ``message`` per
        new, edited or deleted message (``deleted`` true), ``reset`` when the emulator was
        reset. A new connection gets everything."""
        bot_id = int(request.match_info["bot_id"])
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        sent: dict[tuple[int, int], bytes] = {}
        chats_sent = b""
        world = self._em.world
        try:
            while not self._changes.closed:
                if world is not self._em.world:
                    # POST /control/reset: the page forgets what it has and starts again.
                    world, sent, chats_sent = self._em.world, {}, b""
                    await response.write(b"event: reset\ndata: {}\n\n")
                bot = world.bots.get(bot_id)
                if bot is not None:
                    chats = orjson.dumps(chats_of(bot))
                    if chats != chats_sent:
                        await response.write(b"event: chats\ndata: " + chats + b"\n\n")
                        chats_sent = chats
                    for key, data in _changed(bot, sent):
                        await response.write(b"event: message\ndata: " + data + b"\n\n")
                        sent[key] = data
                await self._changes.wait(HEARTBEAT_SECONDS)
                await response.write(b": ping\n\n")
                await asyncio.sleep(COALESCE_SECONDS)
        except ConnectionResetError:
            pass  # the page was closed
        return response


def _changed(
    bot: BotState, sent: dict[tuple[int, int], bytes]
) -> list[tuple[tuple[int, int], bytes]]:
    """Messages of ``bot`` whose record differs from what was ``sent``."""
    fresh = []
    for chat in list(bot.chats.values()):
        for message in list(chat.messages.values()):
            key = (chat.id, message.message_id)
            data = orjson.dumps(record_of(message))
            if sent.get(key) != data:
                fresh.append((key, data))
    return fresh
