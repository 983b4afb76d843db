"""Bot API methods that post messages: text, media, copies and forwards, with Telegram's checks."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from typing import Any

from tools.telegram_emulator.errors import bad_request
from tools.telegram_emulator.html_text import clean_text, parse_html, utf16_len
from tools.telegram_emulator.markup import has_web_app_button, validate_reply_markup
from tools.telegram_emulator.model import BotState, Chat, Message, now
from tools.telegram_emulator.params import Params
from tools.telegram_emulator.state import Emulator

MAX_TEXT = 4096
MAX_CAPTION = 1024
MEDIA_KINDS = ("photo", "video", "voice", "audio", "document", "animation")

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


def text_param(params: Params) -> tuple[str | None, str | None, list[dict[str, Any]]]:
    """A message's ``text``: required, at most 4096 UTF-16 units once parsed."""
    return _formatted(
        params,
        "text",
        "entities",
        limit=MAX_TEXT,
        empty="message text is empty",
        too_long="message is too long",
    )


def caption_param(params: Params) -> tuple[str | None, str | None, list[dict[str, Any]]]:
    """A media message's optional ``caption``: at most 1024 UTF-16 units once parsed."""
    return _formatted(
        params,
        "caption",
        "caption_entities",
        limit=MAX_CAPTION,
        empty=None,
        too_long="message caption is too long",
    )


def markup_param(params: Params) -> dict[str, Any] | None:
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


def writable_chat(bot: BotState, params: Params) -> Chat:
    chat = bot.chat(params.required("chat_id"))
    chat.require_writable(bot)
    return chat


def send_message(em: Emulator, bot: BotState, params: Params) -> dict[str, Any]:
    """sendMessage."""
    chat = writable_chat(bot, params)
    text, raw, entities = text_param(params)
    markup = markup_param(params)
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
        chat = writable_chat(bot, params)
        caption, raw, entities = caption_param(params)
        described = _file_object(bot, kind, params)
        markup = markup_param(params)
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


def copy_message(em: Emulator, bot: BotState, params: Params) -> dict[str, Any]:
    """copyMessage: the content without the link to the original."""
    source_chat = bot.chat(params.required("from_chat_id"))
    source = source_chat.find(params.integer("message_id") or 0, "message to copy not found")
    chat = writable_chat(bot, params)
    caption, raw, entities = source.caption, source.html, source.caption_entities
    if params.has("caption"):
        caption, raw, entities = caption_param(params)
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
        reply_markup=markup_param(params),
    )
    return {"message_id": copy.message_id}


def forward_message(em: Emulator, bot: BotState, params: Params) -> dict[str, Any]:
    """forwardMessage: the content with where it came from."""
    source_chat = bot.chat(params.required("from_chat_id"))
    source = source_chat.find(params.integer("message_id") or 0, "message to forward not found")
    chat = writable_chat(bot, params)
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
