"""Bot API methods: aiogram against the emulator, and Telegram's exact error shapes."""

from __future__ import annotations

import pytest
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from tests.emulator.conftest import Emulator, started_member

USER = 4_000_000_001


def _keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=d.upper(), callback_data=d) for d in data]]
    )


async def test_get_me_and_unknown_token(emulator: Emulator) -> None:
    bot = emulator.bot()
    me = await bot.get_me()
    assert me.id == bot.id and me.is_bot and me.username == f"veil_{bot.id}_bot"
    with pytest.raises(TelegramUnauthorizedError):
        await emulator.bot("12345:short").get_me()


async def test_sent_message_is_kept_as_shown_and_as_sent(emulator: Emulator) -> None:
    bot = emulator.bot()
    await started_member(emulator, bot, USER)
    sent = await bot.send_message(
        USER, "<b>Hi</b> &amp; welcome", parse_mode="HTML", reply_markup=_keyboard("go")
    )
    assert sent.text == "Hi & welcome" and sent.chat.id == USER
    stored = (await emulator.messages(bot.id, USER))[-1]
    assert stored["message_id"] == sent.message_id and stored["from_bot"]
    assert stored["text"] == "Hi & welcome"
    assert stored["html"] == "<b>Hi</b> &amp; welcome"
    assert stored["entities"] == [{"type": "bold", "offset": 0, "length": 2}]
    assert stored["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "go"


async def test_errors_have_telegrams_shape(emulator: Emulator) -> None:
    bot = emulator.bot()
    token = bot.token
    await started_member(emulator, bot, USER)
    cases = {
        "empty text": ({"chat_id": USER, "text": ""}, 400, "Bad Request: message text is empty"),
        "too long": (
            {"chat_id": USER, "text": "x" * 4097},
            400,
            "Bad Request: message is too long",
        ),
        "unknown chat": ({"chat_id": 42, "text": "hi"}, 400, "Bad Request: chat not found"),
        "bad html": (
            {"chat_id": USER, "text": "I <3 you", "parse_mode": "HTML"},
            400,
            'Bad Request: can\'t parse entities: Unsupported start tag "3" at byte offset 2',
        ),
        "unclosed tag": (
            {"chat_id": USER, "text": "<b>bold", "parse_mode": "HTML"},
            400,
            "Bad Request: can't parse entities: "
            'Can\'t find end tag corresponding to start tag "b"',
        ),
        "long callback data": (
            {
                "chat_id": USER,
                "text": "hi",
                "reply_markup": {"inline_keyboard": [[{"text": "x", "callback_data": "d" * 65}]]},
            },
            400,
            "Bad Request: BUTTON_DATA_INVALID",
        ),
    }
    for name, (params, code, description) in cases.items():
        status, body = await emulator.raw(token, "sendMessage", **params)
        assert (status, body) == (
            code,
            {"ok": False, "error_code": code, "description": description},
        ), name
    status, body = await emulator.raw(token, "sendMessage", chat_id=USER, text="x" * 4096)
    assert status == 200 and body["ok"] and len(body["result"]["text"]) == 4096
    status, body = await emulator.raw(token, "noSuchMethod")
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(USER, " ")


async def test_html_entities_use_utf16_offsets(emulator: Emulator) -> None:
    bot = emulator.bot()
    await started_member(emulator, bot, USER)
    sent = await bot.send_message(
        USER,
        '😀 <b>bold</b> &lt;3 <a href="https://example.org">link</a> <i>it</i>',
        parse_mode="HTML",
    )
    assert sent.text == "😀 bold <3 link it"
    assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [
        ("bold", 3, 4),
        ("text_link", 11, 4),
        ("italic", 16, 2),
    ]


async def test_blocked_and_never_started_members_get_403(emulator: Emulator) -> None:
    bot = emulator.bot()
    await started_member(emulator, bot, USER)
    await emulator.act(f"/bots/{bot.id}/users/{USER}/block")
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER, "hello?")
    await emulator.act(f"/bots/{bot.id}/users/{USER}/unblock")
    assert (await bot.send_message(USER, "hello again")).text == "hello again"
    # Known from a group, never opened the bot.
    await emulator.act(
        "/chats", {"bot_id": bot.id, "chat_id": -100123, "type": "supergroup", "members": [777]}
    )
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await bot.send_message(777, "hi")


async def test_edits_and_not_modified(emulator: Emulator) -> None:
    bot = emulator.bot()
    await started_member(emulator, bot, USER)
    sent = await bot.send_message(USER, "draft", reply_markup=_keyboard("a", "b"))
    edited = await bot.edit_message_text(
        text="final", chat_id=USER, message_id=sent.message_id, reply_markup=_keyboard("a", "b")
    )
    assert not isinstance(edited, bool) and edited.text == "final" and edited.edit_date
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            text="final", chat_id=USER, message_id=sent.message_id, reply_markup=_keyboard("a", "b")
        )
    await bot.edit_message_reply_markup(chat_id=USER, message_id=sent.message_id)
    stored = (await emulator.messages(bot.id, USER))[-1]
    assert (stored["text"], stored["reply_markup"]) == ("final", None)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=USER, message_id=999)
    user_message = (await emulator.messages(bot.id, USER))[0]
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text(text="x", chat_id=USER, message_id=user_message["message_id"])


async def test_delete_copy_and_forward(emulator: Emulator) -> None:
    bot = emulator.bot()
    await started_member(emulator, bot, USER)
    await started_member(emulator, bot, USER + 1, "Ben")
    original = await bot.send_message(USER, "<i>shared</i>", parse_mode="HTML")
    copied = await bot.copy_message(USER + 1, USER, original.message_id)
    copy = next(
        m for m in await emulator.messages(bot.id, USER + 1) if m["message_id"] == copied.message_id
    )
    assert copy["text"] == "shared" and copy["forward_origin"] is None
    forwarded = await bot.forward_message(USER + 1, USER, original.message_id)
    assert forwarded.forward_origin is not None
    assert await bot.delete_message(USER, original.message_id)
    assert original.message_id not in [
        m["message_id"] for m in await emulator.messages(bot.id, USER)
    ]
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER, original.message_id)
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(USER + 1, USER, original.message_id)


async def test_photo_upload_then_by_file_id(emulator: Emulator) -> None:
    bot = emulator.bot()
    await started_member(emulator, bot, USER)
    await started_member(emulator, bot, USER + 1, "Ben")
    photo = BufferedInputFile(b"\x89PNG fake image bytes", filename="cat.png")
    first = await bot.send_photo(USER, photo, caption="a <b>cat</b>", parse_mode="HTML")
    assert first.photo and first.caption == "a cat"
    file_id = first.photo[-1].file_id
    again = await bot.send_photo(USER + 1, file_id)
    assert again.photo and again.photo[-1].file_id == file_id
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_photo(USER, "no-such-file")
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(USER, file_id, caption="c" * 1025)
    recaptioned = await bot.edit_message_caption(
        chat_id=USER, message_id=first.message_id, caption="a <i>dog</i>", parse_mode="HTML"
    )
    assert not isinstance(recaptioned, bool) and recaptioned.caption == "a dog"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_caption(
            chat_id=USER, message_id=first.message_id, caption="a <i>dog</i>", parse_mode="HTML"
        )
    with pytest.raises(TelegramBadRequest, match="there is no text in the message to edit"):
        await bot.edit_message_text(text="x", chat_id=USER, message_id=first.message_id)


async def test_chat_members_and_channel_rights(emulator: Emulator) -> None:
    bot = emulator.bot()
    await emulator.act(
        "/chats",
        {
            "bot_id": bot.id,
            "chat_id": -1001,
            "type": "supergroup",
            "title": "Admins",
            "admins": [10, 11],
            "members": [12],
            "bot_is_admin": True,
        },
    )
    await emulator.act(
        "/chats",
        {"bot_id": bot.id, "chat_id": -1002, "type": "channel", "title": "News", "admins": [10]},
    )
    statuses = {
        user: (await bot.get_chat_member(-1001, user)).status for user in (10, 11, 12, 13, bot.id)
    }
    assert statuses == {
        10: "creator",
        11: "administrator",
        12: "member",
        13: "left",
        bot.id: "administrator",
    }
    chat = await bot.get_chat(-1001)
    assert (chat.id, chat.type, chat.title) == (-1001, "supergroup", "Admins")
    with pytest.raises(TelegramBadRequest, match="need administrator rights in the channel chat"):
        await bot.send_message(-1002, "post")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.get_chat_member(-1999, 10)
