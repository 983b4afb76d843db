"""The Bot API methods, with Telegram's validation and answers.

Each method takes the emulator, the calling bot and its parameters and
returns the ``result`` Telegram would, or raises ``BotApiError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import ipaddress
import re
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from tools.telegram_emulator.commands import delete_my_commands, get_my_commands, set_my_commands
from tools.telegram_emulator.errors import BotApiError, bad_request, not_found
from tools.telegram_emulator.faults import Disconnect
from tools.telegram_emulator.groups import restricted_member
from tools.telegram_emulator.html_text import clean_text, parse_html, utf16_len
from tools.telegram_emulator.markup import has_web_app_button, validate_reply_markup
from tools.telegram_emulator.model import BotState, Chat, Message, Webhook, error_of, now
from tools.telegram_emulator.params import Params
from tools.telegram_emulator.state import Emulator
from tools.telegram_emulator.webapp import get_chat_menu_button, set_chat_menu_button

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_ANSWER = 200
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_MEDIA_KINDS = ("photo", "video", "voice", "audio", "document", "animation")

Method = Callable[[Emulator, BotState, Params], Any]


def _formatted(
    params: Params, key: str, entities_key: str, *, limit: int, empty: str | None, too_long: str
) -> tuple[str | None, str | None, list[dict[str, Any]]]:
    """(shown text, raw text, entities) of a text or caption parameter."""
    raw = params.text(key)
    if raw is None or raw == "":
        if empty is not None:
            raise bad_request(empty)
        return None, None, []
    mode = (params.text("parse_mode") or "").lower()
    if mode == "html":
        text, entities = parse_html(raw)
    elif mode in ("", "markdown", "markdownv2"):
        # Markdown is passed through as written: Veil sends HTML only.
        text, entities = raw, list(params.obj(entities_key, "entities") or [])
    else:
        raise bad_request("unsupported parse_mode")
    # Telegram trims and tidies before it checks: the limits apply to what is stored.
    text, entities = clean_text(text, entities)
    if not text.strip():
        if empty is not None:
            raise bad_request(empty)
        return None, None, []
    # Telegram counts UTF-16 code units of the parsed text (an emoji is often two).
    if utf16_len(text) > limit:
        raise bad_request(too_long)
    return text, raw, entities


def _message_text(params: Params) -> tuple[str | None, str | None, list[dict[str, Any]]]:
    """A message's ``text``: required, at most 4096 UTF-16 units once parsed."""
    return _formatted(
        params,
        "text",
        "entities",
        limit=MAX_TEXT,
        empty="message text is empty",
        too_long="message is too long",
    )


def _caption(params: Params) -> tuple[str | None, str | None, list[dict[str, Any]]]:
    """A media message's optional ``caption``: at most 1024 UTF-16 units once parsed."""
    return _formatted(
        params,
        "caption",
        "caption_entities",
        limit=MAX_CAPTION,
        empty=None,
        too_long="message caption is too long",
    )


def _markup(params: Params) -> dict[str, Any] | None:
    return validate_reply_markup(params.obj("reply_markup", "reply keyboard markup"))


def _reply_to(params: Params, chat: Chat) -> int | None:
    reply = params.obj("reply_parameters", "reply parameters")
    message_id = reply.get("message_id") if isinstance(reply, dict) else None
    message_id = message_id or params.integer("reply_to_message_id")
    if message_id is None:
        return None
    if message_id not in chat.messages or chat.messages[message_id].deleted:
        allow = isinstance(reply, dict) and reply.get("allow_sending_without_reply")
        if not allow:
            raise bad_request("message to be replied not found")
        return None
    return int(message_id)


def _post(em: Emulator, bot: BotState, chat: Chat, params: Params, **content: Any) -> Message:
    """Store a message the bot sends, after Telegram's checks and flood control."""
    if chat.type != "private" and has_web_app_button(content.get("reply_markup")):
        # Telegram: web_app buttons are "available only in private chats".
        raise bad_request("BUTTON_TYPE_INVALID")
    em.flood.admit(bot.id, chat.id, chat.type)
    for key in ("entities", "caption_entities"):
        if content.get(key):
            content[key] = bot.with_users(content[key])
    message = Message(
        message_id=chat.take_id(),
        chat=chat,
        date=now(),
        from_bot=True,
        sender=None if chat.type == "channel" else bot.me(),
        sender_chat=chat if chat.type == "channel" else None,
        reply_to_message_id=_reply_to(params, chat),
        **content,
    )
    em.stats["messages_sent"] += 1
    return chat.add(message)


def _writable_chat(bot: BotState, params: Params) -> Chat:
    chat = bot.chat(params.required("chat_id"))
    chat.require_writable(bot)
    return chat


def send_message(em: Emulator, bot: BotState, params: Params) -> dict[str, Any]:
    """sendMessage."""
    chat = _writable_chat(bot, params)
    text, raw, entities = _message_text(params)
    markup = _markup(params)
    return _post(
        em, bot, chat, params, text=text, html=raw, entities=entities, reply_markup=markup
    ).to_api()


def _file_object(bot: BotState, kind: str, params: Params) -> dict[str, Any]:
    """The media object of a send: a new upload, a known file_id or a URL."""
    value = params.required(kind)
    upload = None
    if isinstance(value, str) and value.startswith("attach://"):
        upload = params.uploads.get(value.removeprefix("attach://"))
        if upload is None:
            raise bad_request(f"file {value} not found in the request")
    elif kind in params.uploads:
        upload = params.uploads[kind]
    if upload is not None:
        digest = hashlib.sha1(upload.content).hexdigest()
        file_id = f"{kind.upper()}-{digest[:24]}-{secrets.token_hex(4)}"
        described: dict[str, Any] = {
            "file_id": file_id,
            "file_unique_id": digest[:16],
            "file_size": len(upload.content),
            "file_name": upload.filename,
        }
        bot.files[file_id] = described
        return described
    if not isinstance(value, str):
        raise bad_request("wrong file identifier/HTTP URL specified")
    if value in bot.files:
        return bot.files[value]
    if value.startswith(("http://", "https://")):
        # Recorded, never fetched: the emulator sends no traffic anywhere.
        described = {
            "file_id": f"URL-{secrets.token_hex(8)}",
            "file_unique_id": secrets.token_hex(8),
            "url": value,
        }
        bot.files[described["file_id"]] = described
        return described
    raise bad_request("wrong file identifier/HTTP URL specified")


def media_object(kind: str, described: dict[str, Any]) -> Any:
    """The Bot API object of a file as a message carries it (a photo is a list of sizes)."""
    public = {k: v for k, v in described.items() if k != "url"}
    if kind == "photo":
        size = {k: public[k] for k in ("file_id", "file_unique_id")} | {
            "width": 1280,
            "height": 960,
        }
        return [size]
    if kind in ("video", "animation"):
        return public | {"width": 1280, "height": 720, "duration": 1}
    if kind in ("voice", "audio"):
        return public | {"duration": 1}
    return public


def send_media(kind: str) -> Method:
    """sendPhoto, sendVideo, … : one implementation, one media field each."""

    def send(em: Emulator, bot: BotState, params: Params) -> dict[str, Any]:
        chat = _writable_chat(bot, params)
        caption, raw, entities = _caption(params)
        described = _file_object(bot, kind, params)
        markup = _markup(params)
        media = {"type": kind, "object": media_object(kind, described)}
        return _post(
            em,
            bot,
            chat,
            params,
            caption=caption,
            html=raw,
            caption_entities=entities,
            media=media,
            reply_markup=markup,
        ).to_api()

    send.__doc__ = f"send{kind.capitalize()}."
    return send


def _own_message(bot: BotState, params: Params, missing: str) -> Message:
    if params.has("inline_message_id"):
        raise bad_request(missing)
    chat = bot.chat(params.required("chat_id"))
    if chat.type == "private" and chat.blocked:
        chat.require_writable(bot)
    message_id = params.integer("message_id")
    if message_id is None:
        raise bad_request("message identifier is not specified")
    return chat.find(message_id, missing)


_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


def _edit(em: Emulator, bot: BotState, params: Params, *, caption: bool) -> dict[str, Any]:
    """editMessageText and editMessageCaption: the same checks on another field."""
    message = _own_message(bot, params, "message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    if caption:
        if message.media is None:
            raise bad_request("there is no caption in the message to edit")
        shown, raw, entities = _caption(params)
        current = (message.caption, message.caption_entities)
    else:
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        shown, raw, entities = _message_text(params)
        current = (message.text, message.entities)
    entities = bot.with_users(entities)
    markup = _markup(params)
    if (shown, entities, markup) == (*current, message.reply_markup):
        raise bad_request(_NOT_MODIFIED)
    em.flood.admit(bot.id, message.chat.id, message.chat.type)
    if caption:
        message.caption, message.caption_entities = shown, entities
    else:
        message.text, message.entities = shown, entities
    message.html, message.reply_markup, message.edit_date = raw, markup, now()
    return message.to_api()


def edit_message_text(em: Emulator, bot: BotState, params: Params) -> dict[str, Any]:
    """editMessageText."""
    return _edit(em, bot, params, caption=False)


def edit_message_caption(em: Emulator, bot: BotState, params: Params) -> dict[str, Any]:
    """editMessageCaption."""
    return _edit(em, bot, params, caption=True)


def edit_message_reply_markup(em: Emulator, bot: BotState, params: Params) -> dict[str, Any]:
    """editMessageReplyMarkup."""
    message = _own_message(bot, params, "message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    markup = _markup(params)
    if markup == message.reply_markup or (not markup and not message.reply_markup):
        raise bad_request(_NOT_MODIFIED)
    em.flood.admit(bot.id, message.chat.id, message.chat.type)
    message.reply_markup, message.edit_date = markup, now()
    return message.to_api()


def delete_message(em: Emulator, bot: BotState, params: Params) -> bool:
    """deleteMessage."""
    message = _own_message(bot, params, "message to delete not found")
    chat = message.chat
    if not message.from_bot and chat.type != "private" and not chat.bot_is_admin:
        raise bad_request("message can't be deleted")
    message.deleted = True
    return True


def copy_message(em: Emulator, bot: BotState, params: Params) -> dict[str, Any]:
    """copyMessage: the content without the link to the original."""
    source_chat = bot.chat(params.required("from_chat_id"))
    source = source_chat.find(params.integer("message_id") or 0, "message to copy not found")
    chat = _writable_chat(bot, params)
    caption, raw, entities = source.caption, source.html, source.caption_entities
    if params.has("caption"):
        caption, raw, entities = _caption(params)
    copy = _post(
        em,
        bot,
        chat,
        params,
        text=source.text,
        html=source.html if source.text is not None else raw,
        entities=list(source.entities),
        caption=caption,
        caption_entities=entities,
        media=source.media,
        reply_markup=_markup(params),
    )
    return {"message_id": copy.message_id}


def forward_message(em: Emulator, bot: BotState, params: Params) -> dict[str, Any]:
    """forwardMessage: the content with where it came from."""
    source_chat = bot.chat(params.required("from_chat_id"))
    source = source_chat.find(params.integer("message_id") or 0, "message to forward not found")
    chat = _writable_chat(bot, params)
    if source_chat.type == "channel":
        origin = {
            "type": "channel",
            "date": source.date,
            "chat": source_chat.to_api(),
            "message_id": source.message_id,
        }
    elif source.sender is not None:
        origin = {"type": "user", "date": source.date, "sender_user": source.sender.to_api()}
    else:
        origin = {"type": "hidden_user", "date": source.date, "sender_user_name": "Hidden"}
    return _post(
        em,
        bot,
        chat,
        params,
        text=source.text,
        html=source.html,
        entities=list(source.entities),
        caption=source.caption,
        caption_entities=list(source.caption_entities),
        media=source.media,
        forward_origin=origin,
    ).to_api()


def answer_callback_query(em: Emulator, bot: BotState, params: Params) -> bool:
    """answerCallbackQuery: once per query, and only while it is fresh."""
    query = bot.callbacks.get(params.text("callback_query_id") or "")
    if query is None or query.answer is not None:
        raise bad_request("query is too old and response timeout expired or query ID is invalid")
    text = params.text("text") or ""
    if utf16_len(text) > MAX_CALLBACK_ANSWER:
        raise bad_request("MESSAGE_TOO_LONG")
    query.answer = {
        "text": text or None,
        "show_alert": params.flag("show_alert"),
        "url": params.text("url"),
        "cache_time": params.integer("cache_time", 0),
    }
    return True


def _member(bot: BotState, chat: Chat, user_id: int) -> dict[str, Any]:
    if user_id == bot.id:
        user, is_admin, present = bot.me(), chat.bot_is_admin, chat.bot_is_member
    else:
        user = bot.user(user_id)
        is_admin = user_id in chat.admins
        present = (
            is_admin or user_id in chat.members or (chat.type == "private" and chat.id == user_id)
        )
    if chat.type == "private" and chat.id == user_id and chat.blocked:
        present = True
    if user_id in chat.restricted:
        return restricted_member(user.to_api(), is_member=chat.restricted[user_id])
    if not present:
        return {"status": "left", "user": user.to_api()}
    if not is_admin:
        return {"status": "member", "user": user.to_api()}
    if user_id != bot.id and user_id == min(chat.admins):
        return {"status": "creator", "user": user.to_api(), "is_anonymous": False}
    rights = dict.fromkeys(
        (
            "can_be_edited",
            "is_anonymous",
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_promote_members",
            "can_change_info",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
            "can_post_messages",
            "can_edit_messages",
            "can_pin_messages",
            "can_send_welcome_messages",
        ),
        True,
    )
    rights["is_anonymous"] = rights["can_be_edited"] = False
    return {"status": "administrator", "user": user.to_api(), **rights}


def get_chat_member(em: Emulator, bot: BotState, params: Params) -> dict[str, Any]:
    """getChatMember."""
    chat = bot.chat(params.required("chat_id"))
    user_id = params.integer("user_id")
    if user_id is None:
        raise bad_request("user_id is empty")
    return _member(bot, chat, user_id)


def get_chat_administrators(em: Emulator, bot: BotState, params: Params) -> list[dict[str, Any]]:
    """getChatAdministrators."""
    chat = bot.chat(params.required("chat_id"))
    if chat.type == "private":
        raise bad_request("there are no administrators in the private chat")
    admins = sorted(chat.admins) + ([bot.id] if chat.bot_is_admin else [])
    return [_member(bot, chat, user_id) for user_id in admins]


def get_chat(em: Emulator, bot: BotState, params: Params) -> dict[str, Any]:
    """getChat (a ChatFullInfo)."""
    chat = bot.chat(params.required("chat_id"))
    return chat.to_api() | {
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


def get_me(em: Emulator, bot: BotState, params: Params) -> dict[str, Any]:
    """getMe."""
    return bot.me().to_api() | {
        "can_join_groups": True,
        "can_read_all_group_messages": not bot.privacy_mode,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def set_webhook(em: Emulator, bot: BotState, params: Params) -> bool:
    """setWebhook; an empty url removes it, as on Telegram."""
    url = params.text("url") or ""
    if not url:
        bot.webhook = None
        return True
    if urlsplit(url).scheme not in ("http", "https"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if not _loopback(url):
        # Telegram would reach out to the internet; the emulator never does.
        raise bad_request("bad webhook: the emulator delivers to loopback addresses only")
    secret = params.text("secret_token")
    if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    max_connections = params.integer("max_connections", 40)
    if max_connections is None or not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    allowed = params.obj("allowed_updates", "allowed updates")
    if params.flag("drop_pending_updates"):
        bot.polled.clear()
    bot.webhook = Webhook(url, secret or None, max_connections, list(allowed or []))
    return True


def delete_webhook(em: Emulator, bot: BotState, params: Params) -> bool:
    """deleteWebhook."""
    if params.flag("drop_pending_updates"):
        bot.polled.clear()
    bot.webhook = None
    return True


def get_webhook_info(em: Emulator, bot: BotState, params: Params) -> dict[str, Any]:
    """getWebhookInfo."""
    hook = bot.webhook
    info: dict[str, Any] = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": bot.in_delivery if hook else len(bot.polled),
    }
    if hook:
        info["max_connections"] = hook.max_connections
        if hook.allowed_updates:
            info["allowed_updates"] = hook.allowed_updates
        if hook.last_error_date:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
    return info


async def get_updates(em: Emulator, bot: BotState, params: Params) -> list[dict[str, Any]]:
    """getUpdates: long polling, refused while a webhook is set."""
    if bot.webhook is not None:
        raise BotApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    offset = params.integer("offset", 0) or 0
    limit = min(max(params.integer("limit", 100) or 100, 1), 100)
    timeout = min(params.integer("timeout", 0) or 0, 50)
    while bot.polled and offset and bot.polled[0]["update_id"] < offset:
        bot.polled.popleft()
    if not bot.polled and timeout:
        event = em.poll_event(bot.id)
        event.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
    return list(bot.polled)[:limit]


def send_chat_action(em: Emulator, bot: BotState, params: Params) -> bool:
    """sendChatAction."""
    _writable_chat(bot, params)
    return True


def ok(em: Emulator, bot: BotState, params: Params) -> bool:
    """Methods that only need to succeed here (descriptions, names)."""
    return True


METHODS: dict[str, Method] = {
    "getme": get_me,
    "setwebhook": set_webhook,
    "deletewebhook": delete_webhook,
    "getwebhookinfo": get_webhook_info,
    "getupdates": get_updates,
    "sendmessage": send_message,
    "editmessagetext": edit_message_text,
    "editmessagecaption": edit_message_caption,
    "editmessagereplymarkup": edit_message_reply_markup,
    "deletemessage": delete_message,
    "copymessage": copy_message,
    "forwardmessage": forward_message,
    "answercallbackquery": answer_callback_query,
    "getchatmember": get_chat_member,
    "getchatadministrators": get_chat_administrators,
    "getchat": get_chat,
    "setmycommands": set_my_commands,
    "getmycommands": get_my_commands,
    "deletemycommands": delete_my_commands,
    "sendchataction": send_chat_action,
    "setmydescription": ok,
    "setmyshortdescription": ok,
    "setmyname": ok,
    "setchatmenubutton": set_chat_menu_button,
    "getchatmenubutton": get_chat_menu_button,
    **{f"send{kind}": send_media(kind) for kind in _MEDIA_KINDS},
}


async def call(em: Emulator, bot: BotState, method: str, params: Params) -> Any:
    """Run one Bot API call, count it and record it in the bot's call log."""
    name = method.lower()
    handler = METHODS.get(name)
    record: dict[str, Any] = {"method": method, "params": params.public(), "time": time.time()}
    bot.calls.append(record)
    em.stats["calls"] += 1
    em.stats[f"method:{method}"] += 1
    try:
        if handler is None:
            raise not_found()
        lost = em.faults.check(name, bot.id, params.raw("chat_id"))
        result = handler(em, bot, params)
        if inspect.isawaitable(result):
            result = await result
        if lost is not None and lost.delay:
            record["answer_delayed"] = lost.hold_seconds
            await asyncio.sleep(lost.hold_seconds)
        elif lost is not None:
            # Done, but the client never hears of it.
            record |= {"ok": True, "answer_lost": True}
            await asyncio.sleep(lost.hold_seconds)
            raise Disconnect(method)
    except BotApiError as error:
        record |= {"ok": False, **error_of(error)}
        em.stats[f"error:{error.error_code}"] += 1
        raise
    except Disconnect:
        record.setdefault("ok", False)
        record["disconnected"] = True
        em.stats["disconnects"] += 1
        raise
    record["ok"] = True
    return result
