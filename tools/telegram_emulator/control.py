"""The control API: act as members and channel admins, read what the bot sent.

Every "act" endpoint creates the update Telegram would, delivers it to the
bot's webhook and answers once the webhook answered, with the delivery's
outcome, so a test can act and then look at the result without sleeping.
"""

from __future__ import annotations

import itertools
import secrets
import zlib
from dataclasses import asdict
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from tools.telegram_emulator.connection import get_webhook_info
from tools.telegram_emulator.delivery import Deliverer
from tools.telegram_emulator.entities import detect
from tools.telegram_emulator.faults import Fault
from tools.telegram_emulator.groups import bot_receives
from tools.telegram_emulator.markup import button_data, callback_data_of
from tools.telegram_emulator.model import BotState, CallbackQuery, Chat, Message, User, now
from tools.telegram_emulator.params import Params
from tools.telegram_emulator.sending import media_object
from tools.telegram_emulator.state import Emulator

CHAT_TYPES = ("private", "group", "supergroup", "channel")
MEDIA_KINDS = ("photo", "voice", "video")


class ControlError(Exception):
    """A control request that cannot be carried out (answered 400/404)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@web.middleware
async def control_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Control API errors as ``{"error": ...}`` with a 4xx status."""
    try:
        return await handler(request)
    except ControlError as error:
        return web.json_response({"error": str(error)}, status=error.status)
    except (KeyError, TypeError, ValueError) as error:
        if not request.path.startswith("/control/"):
            raise
        return web.json_response({"error": f"bad request: {error!r}"}, status=400)


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:
        raise ControlError("body must be JSON") from None
    if not isinstance(body, dict):
        raise ControlError("body must be a JSON object")
    return body


class Control:
    """Handlers of ``/control/...``."""

    def __init__(self, emulator: Emulator, deliverer: Deliverer) -> None:
        self._em = emulator
        self._deliverer = deliverer

    def routes(self) -> list[web.RouteDef]:
        """Every control route."""
        bot = "/control/bots/{bot_id:-?\\d+}"
        user = bot + "/users/{user_id:\\d+}"
        return [
            web.post("/control/chats", self.create_chat),
            web.post(user + "/messages", self.user_message),
            web.post(user + "/start", self.user_start),
            web.post(user + "/press", self.press),
            web.post(user + "/block", self.user_block),
            web.post(user + "/unblock", self.user_unblock),
            web.post(bot + "/press", self.press),
            web.post(bot + "/channel_post", self.channel_post),
            web.post(bot + "/redeliver", self.redeliver),
            web.get(bot + "/chats/{chat_id:-?\\d+}/messages", self.messages),
            web.get(bot + "/chats/{chat_id:-?\\d+}/buttons", self.buttons),
            web.get(bot + "/calls", self.calls),
            web.get(bot + "/webhook", self.webhook),
            web.get(bot + "/deliveries", self.deliveries),
            web.get("/control/flood", self.flood),
            web.post("/control/flood", self.flood),
            web.post("/control/fail", self.fail),
            web.get("/control/stats", self.stats),
            web.post("/control/reset", self.reset),
        ]

    def _bot(self, request: web.Request) -> BotState:
        return self._em.world.bot(int(request.match_info["bot_id"]))

    def _user(self, bot: BotState, request: web.Request, body: dict[str, Any]) -> User:
        user_id = int(request.match_info.get("user_id") or body["user_id"])
        return bot.user(user_id, body.get("first_name"), body.get("username"))

    def _chat_for(self, bot: BotState, user: User, body: dict[str, Any], *, writing: bool) -> Chat:
        """The chat a member acts in: their private chat unless ``chat_id`` names a group."""
        chat_id = body.get("chat_id")
        if chat_id is None or int(chat_id) == user.id:
            return bot.private_chat(user)
        group = bot.chats.get(int(chat_id))
        if group is None:
            raise ControlError(f"no chat {chat_id} for bot {bot.id}", 404)
        if group.type == "channel":
            if writing:
                raise ControlError("members do not write in channels; use channel_post")
        elif writing:
            # Writing in a group makes one a member; pressing a button does not
            # (anyone may press buttons in a public group they have not joined).
            group.members.add(user.id)
        return group

    async def _deliver(self, bot: BotState, update: dict[str, Any], **extra: Any) -> web.Response:
        delivery = await self._deliverer.deliver(bot, update)
        return web.json_response(delivery.to_json() | extra)

    async def create_chat(self, request: web.Request) -> web.Response:
        """Create (or update) a group, supergroup or channel the bot is in."""
        body = await _body(request)
        bot = self._em.world.bot(int(body["bot_id"]))
        kind = body.get("type", "supergroup")
        if kind not in CHAT_TYPES or kind == "private":
            raise ControlError(f"type must be one of group, supergroup, channel; got {kind!r}")
        chat_id = int(body["chat_id"])
        if chat_id >= 0:
            raise ControlError("group and channel ids are negative")
        admins = {int(u) for u in body.get("admins", [])}
        chat = Chat(
            chat_id,
            kind,
            title=body.get("title") or str(chat_id),
            username=body.get("username"),
            admins=admins,
            members={int(u) for u in body.get("members", [])} | admins,
            bot_is_admin=bool(body.get("bot_is_admin", False)),
            bot_is_member=bool(body.get("bot_is_member", True)),
            account_ids=bot.account_ids if kind == "group" else None,
        )
        if chat_id in bot.chats:
            old = bot.chats[chat_id]
            chat.messages = old.messages
            # Past every id it holds, whichever counter gave them (a group's are the bot's).
            chat.next_message_id = max(old.next_message_id, max(old.messages, default=0) + 1)
        bot.chats[chat_id] = chat
        for user_id in chat.members:
            bot.user(user_id)
        return web.json_response({"chat": chat.to_api()})

    async def _message(
        self, bot: BotState, user: User, body: dict[str, Any], text: str
    ) -> web.Response:
        """Text, or with ``media`` a new photo, voice note or video with an optional caption."""
        content: dict[str, Any]
        extra: dict[str, Any] = {}
        kind = body.get("media")
        if kind is not None:
            if kind not in MEDIA_KINDS:
                raise ControlError(f"media must be one of {', '.join(MEDIA_KINDS)}")
            unique = secrets.token_hex(8)
            described: dict[str, Any] = {
                "file_id": f"{str(kind).upper()}-{unique}-{secrets.token_hex(4)}",
                "file_unique_id": unique,
                "file_size": 1024,
            }
            file_id = described["file_id"]
            bot.files[file_id] = described
            extra["file_id"] = file_id
            content = {
                "caption": str(body["caption"]) if body.get("caption") else None,
                "media": {"type": kind, "object": media_object(str(kind), described)},
            }
        elif not text:
            raise ControlError("text is empty")
        else:
            content = {"text": text, "html": None, "entities": detect(text)}
        chat = self._chat_for(bot, user, body, writing=True)
        chat.blocked = False
        reply_to = body.get("reply_to_message_id")
        if reply_to is not None:
            chat.find(int(reply_to), "message to be replied not found")
        message = chat.add(
            Message(
                message_id=chat.take_id(),
                chat=chat,
                date=now(),
                from_bot=False,
                sender=user,
                reply_to_message_id=reply_to,
                **content,
            )
        )
        if not bot_receives(bot, chat, message):
            # Privacy mode: the message is in the group, the bot never hears of it.
            return web.json_response(
                {"update_id": None, "status": None, "attempts": 0, "delivered": False}
                | {"message_id": message.message_id, **extra}
            )
        update = bot.new_update(message=message.to_api())
        return await self._deliver(
            bot, update, message_id=message.message_id, delivered=True, **extra
        )

    async def user_message(self, request: web.Request) -> web.Response:
        """A member sends text, or ``media`` with a caption (privately, or in a group)."""
        body = await _body(request)
        bot = self._bot(request)
        return await self._message(
            bot, self._user(bot, request, body), body, str(body.get("text", ""))
        )

    async def user_start(self, request: web.Request) -> web.Response:
        """A member opens the bot, optionally through ``t.me/<bot>?start=<payload>``."""
        body = await _body(request)
        bot = self._bot(request)
        payload = body.get("payload")
        text = f"/start {payload}" if payload else "/start"
        body.pop("chat_id", None)
        return await self._message(bot, self._user(bot, request, body), body, text)

    async def _press(self, bot: BotState, user: User, body: dict[str, Any]) -> web.Response:
        chat = self._chat_for(bot, user, body, writing=False)
        message_id, data = int(body["message_id"]), str(body["data"])
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise ControlError(f"no message {message_id} in chat {chat.id}")
        if data not in callback_data_of(message.reply_markup):
            raise ControlError(f"message {message_id} has no button with data {data!r}")
        query_id = self._em.world.callback_id()
        query = bot.new_callback(CallbackQuery(query_id, user.id))
        update = bot.new_update(
            callback_query={
                "id": query_id,
                "from": user.to_api(),
                "message": message.to_api(),
                "chat_instance": str(zlib.crc32(f"{bot.id}:{chat.id}".encode())),
                "data": data,
            }
        )
        delivery = await self._deliverer.deliver(bot, update)
        return web.json_response(
            delivery.to_json() | {"callback_query_id": query_id, "answer": query.answer}
        )

    async def press(self, request: web.Request) -> web.Response:
        """A member presses an inline button (data must be on the message).

        The member is in the path (``/users/{uid}/press``) or, for buttons in
        groups and channels, ``user_id`` in the body.
        """
        body = await _body(request)
        bot = self._bot(request)
        return await self._press(bot, self._user(bot, request, body), body)

    async def _set_blocked(self, request: web.Request, blocked: bool) -> web.Response:
        body = await _body(request)
        bot = self._bot(request)
        user = self._user(bot, request, body)
        chat = bot.private_chat(user)
        chat.blocked = blocked
        me = bot.me().to_api()
        kicked = {"status": "kicked", "user": me, "until_date": 0}
        member = {"status": "member", "user": me}
        before, after = (member, kicked) if blocked else (kicked, member)
        update = bot.new_update(
            my_chat_member={
                "chat": chat.to_api(),
                "from": user.to_api(),
                "date": now(),
                "old_chat_member": before,
                "new_chat_member": after,
            }
        )
        return await self._deliver(bot, update)

    async def user_block(self, request: web.Request) -> web.Response:
        """The member blocks the bot: sends to them fail with 403 from now on."""
        return await self._set_blocked(request, True)

    async def user_unblock(self, request: web.Request) -> web.Response:
        """The member unblocks the bot."""
        return await self._set_blocked(request, False)

    async def channel_post(self, request: web.Request) -> web.Response:
        """A channel admin posts in the channel (the bot gets ``channel_post``)."""
        body = await _body(request)
        bot = self._bot(request)
        chat = bot.chats.get(int(body["chat_id"]))
        if chat is None or chat.type != "channel":
            raise ControlError(f"no channel {body['chat_id']} for bot {bot.id}", 404)
        text = str(body.get("text", ""))
        if not text:
            raise ControlError("text is empty")
        message = chat.add(
            Message(chat.take_id(), chat, now(), from_bot=False, sender_chat=chat, text=text)
        )
        update = bot.new_update(channel_post=message.to_api())
        return await self._deliver(bot, update, message_id=message.message_id)

    async def redeliver(self, request: web.Request) -> web.Response:
        """Deliver an earlier update again (Telegram does when it saw no answer)."""
        body = await _body(request)
        bot = self._bot(request)
        update = bot.updates.get(int(body["update_id"]))
        if update is None:
            raise ControlError(f"no update {body['update_id']}", 404)
        return await self._deliver(bot, update)

    async def messages(self, request: web.Request) -> web.Response:
        """A chat's messages, oldest first, in their current state.

        ``?last=N`` gives only the newest N (a driver that wants the latest
        message should not pay for the whole chat's history each time).
        """
        include_deleted = request.query.get("deleted") in ("1", "true")
        last = int(request.query.get("last", "0") or 0)
        newest_first = self._newest_first(request, last, include_deleted)
        records = [m.to_record() for m in reversed(newest_first)]
        return web.json_response({"messages": records})

    async def buttons(self, request: web.Request) -> web.Response:
        """The bot's messages among the chat's newest ``?last=N`` (default 4) that
        have a button whose data starts with ``?prefix=``, oldest first, each as
        its id and its buttons' data: what a load driver needs to press the next
        button, without the whole messages to parse."""
        prefix = request.query.get("prefix", "")
        last = int(request.query.get("last", "4") or 4)
        found = []
        for message in self._newest_first(request, last, include_deleted=False):
            data = button_data(message.reply_markup) if message.from_bot else []
            if any(d.startswith(prefix) for d in data):
                found.append({"message_id": message.message_id, "buttons": data})
        return web.json_response({"messages": found[::-1]})

    def _newest_first(
        self, request: web.Request, last: int, include_deleted: bool
    ) -> list[Message]:
        """The path's chat's newest ``last`` messages (all when ``last`` ≤ 0), newest first."""
        chat = self._bot(request).chats.get(int(request.match_info["chat_id"]))
        kept = (
            m
            for m in reversed(chat.messages.values() if chat else ())
            if include_deleted or not m.deleted
        )
        return list(itertools.islice(kept, last) if last > 0 else kept)

    async def calls(self, request: web.Request) -> web.Response:
        """The bot's Bot API calls, oldest first (``?method=`` filters)."""
        bot = self._bot(request)
        wanted = request.query.get("method", "").lower()
        calls = [c for c in bot.calls if not wanted or c["method"].lower() == wanted]
        return web.json_response({"calls": calls})

    async def deliveries(self, request: web.Request) -> web.Response:
        """How the delivery of each update stands (``pending`` while Telegram would retry)."""
        bot = self._bot(request)
        return web.json_response({"deliveries": list(bot.deliveries.values())})

    async def webhook(self, request: web.Request) -> web.Response:
        """What getWebhookInfo would say, plus the secret token for tests."""
        bot = self._bot(request)
        info = get_webhook_info(self._em, bot, Params({}))
        if bot.webhook is not None:
            info["secret_token_set"] = bot.webhook.secret_token is not None
        return web.json_response(info)

    async def flood(self, request: web.Request) -> web.Response:
        """Read or change the flood limits (``{"enabled": true}`` switches them on)."""
        if request.method == "POST":
            try:
                self._em.flood.limits.update(await _body(request))
            except ValueError as error:
                raise ControlError(str(error)) from None
            self._em.flood.clear()
        return web.json_response(asdict(self._em.flood.limits))

    async def fail(self, request: web.Request) -> web.Response:
        """Arm a failure: the next ``count`` matching calls answer ``error_code``."""
        fault = Fault.from_request(await _body(request))
        self._em.faults.arm(fault)
        return web.json_response({"armed": asdict(fault)})

    async def stats(self, request: web.Request) -> web.Response:
        """Counters: calls, per method, per error code, messages sent, deliveries."""
        counters = dict(self._em.stats)
        return web.json_response(
            {
                "calls": counters.get("calls", 0),
                "messages_sent": counters.get("messages_sent", 0),
                "too_many_requests": counters.get("error:429", 0),
                "updates_delivered": counters.get("updates_delivered", 0),
                "webhook_failures": counters.get("webhook_failures", 0),
                "chats_in_delivery": self._deliverer.chats_in_delivery,
                "counters": counters,
            }
        )

    async def reset(self, request: web.Request) -> web.Response:
        """Forget everything (bots, chats, faults, counters)."""
        self._em.reset()
        return web.json_response({"ok": True})
