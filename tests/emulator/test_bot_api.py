"""Bot API methods: aiogram against the emulator, and Telegram's exact error shapes."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from tests.support.emulator import Emulator, started_member

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


_LONG_DATA = InlineKeyboardMarkup(
    inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="d" * 65)]]
)
# (sendMessage parameters, HTTP status, Telegram's description)
_SEND_ERRORS: dict[str, tuple[dict[str, Any], int, str]] = {
    "empty text": ({"text": ""}, 400, "Bad Request: message text is empty"),
    "blank text": ({"text": " \n "}, 400, "Bad Request: message text is empty"),
    "too long": ({"text": "x" * 4097}, 400, "Bad Request: message is too long"),
    "unknown chat": ({"chat_id": 42, "text": "hi"}, 400, "Bad Request: chat not found"),
    "bad html": (
        {"text": "I <3 you", "parse_mode": "HTML"},
        400,
        'Bad Request: can\'t parse entities: Unsupported start tag "3" at byte offset 2',
    ),
    "unclosed tag": (
        {"text": "<b>bold", "parse_mode": "HTML"},
        400,
        "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
    ),
    "long callback data": (
        {"text": "hi", "reply_markup": _LONG_DATA.model_dump(exclude_none=True)},
        400,
        "Bad Request: BUTTON_DATA_INVALID",
    ),
}


async def test_errors_have_telegrams_shape_on_the_wire(emulator: Emulator) -> None:
    bot = emulator.bot()
    await started_member(emulator, bot, USER)
    for name, (params, code, description) in _SEND_ERRORS.items():
        status, body = await emulator.raw(bot.token, "sendMessage", **({"chat_id": USER} | params))
        assert (status, body) == (
            code,
            {"ok": False, "error_code": code, "description": description},
        ), name
    status, body = await emulator.raw(bot.token, "sendMessage", chat_id=USER, text="x" * 4096)
    assert status == 200 and body["ok"] and len(body["result"]["text"]) == 4096
    status, body = await emulator.raw(bot.token, "noSuchMethod")
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    status, body = await emulator.raw(bot.token, "sendMessage", text="no chat")
    assert (status, body["description"]) == (400, "Bad Request: chat_id is empty")


async def test_errors_reach_aiogram_as_its_exceptions(emulator: Emulator) -> None:
    bot = emulator.bot()
    await started_member(emulator, bot, USER)
    for name, (params, _, description) in _SEND_ERRORS.items():
        markup = _LONG_DATA if "reply_markup" in params else None
        with pytest.raises(TelegramBadRequest) as caught:
            await bot.send_message(
                params.get("chat_id", USER),
                params["text"],
                parse_mode=params.get("parse_mode"),
                reply_markup=markup,
            )
        assert caught.value.message == description, name
    assert len((await bot.send_message(USER, "x" * 4096)).text or "") == 4096
    # 4096 counts characters once the HTML is parsed, not the markup.
    long_html = await bot.send_message(USER, "<b>" + "y" * 4096 + "</b>", parse_mode="HTML")
    assert long_html.text == "y" * 4096


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


async def test_text_is_stored_as_telegram_cleans_it(emulator: Emulator) -> None:
    bot = emulator.bot()
    await started_member(emulator, bot, USER)
    raw = "\r\n  <b>Hi</b> there\r\n<i> </i>you\n\n"
    sent = await bot.send_message(USER, raw, parse_mode="HTML")
    # Leading and trailing blanks trimmed, \r dropped, blank-only entities gone.
    assert sent.text == "Hi there\n you"
    assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [("bold", 0, 2)]
    stored = (await emulator.messages(bot.id, USER))[-1]
    assert (stored["text"], stored["html"]) == ("Hi there\n you", raw)
    # The length limit applies to the cleaned text.
    assert len((await bot.send_message(USER, "x" * 4096 + "\n\n")).text or "") == 4096
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            text="<b>Hi</b> there\n you  \n",
            chat_id=USER,
            message_id=sent.message_id,
            parse_mode="HTML",
        )
    photo = await bot.send_photo(USER, BufferedInputFile(b"img", filename="a.png"), caption=" \n ")
    assert photo.caption is None


async def test_blocked_and_never_started_members_get_403(emulator: Emulator) -> None:
    bot = emulator.bot()
    await started_member(emulator, bot, USER)
    await emulator.act(f"/bots/{bot.id}/users/{USER}/block")
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER, "hello?")
    status, body = await emulator.raw(bot.token, "sendMessage", chat_id=USER, text="hello?")
    assert (status, body) == (
        403,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    )
    await emulator.act(f"/bots/{bot.id}/users/{USER}/unblock")
    assert (await bot.send_message(USER, "hello again")).text == "hello again"
    # Known from a group, never opened the bot.
    await emulator.act(
        "/chats", {"bot_id": bot.id, "chat_id": -100123, "type": "supergroup", "members": [777]}
    )
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await bot.send_message(777, "hi")
    status, body = await emulator.raw(bot.token, "sendMessage", chat_id=777, text="hi")
    assert (status, body["description"]) == (
        403,
        "Forbidden: bot can't initiate conversation with a user",
    )


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
    stored = (await emulator.messages(bot.id, USER))[-1]
    assert (stored["text"], stored["html"]) == ("final", "final")
    await bot.edit_message_reply_markup(
        chat_id=USER, message_id=sent.message_id, reply_markup=_keyboard("c")
    )
    stored = (await emulator.messages(bot.id, USER))[-1]
    assert stored["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "c"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=USER, message_id=sent.message_id, reply_markup=_keyboard("c")
        )
    await bot.edit_message_reply_markup(chat_id=USER, message_id=sent.message_id)
    stored = (await emulator.messages(bot.id, USER))[-1]
    assert (stored["text"], stored["reply_markup"]) == ("final", None)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=USER, message_id=sent.message_id)
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
    copied = await bot.copy_message(USER + 1, USER, first.message_id)
    copy = (await emulator.messages(bot.id, USER + 1))[-1]
    assert copy["message_id"] == copied.message_id
    assert copy["caption"] == "a cat" and copy["media"]["type"] == "photo"
    assert copy["media"]["object"][-1]["file_id"] == file_id
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


async def test_private_chats_share_the_bots_message_ids_supergroups_count_their_own(
    emulator: Emulator,
) -> None:
    """As on Telegram: a bot's private chats and basic groups take ids from one counter.

    So a private chat's ids have gaps (the bot's other chats' messages), and an
    id above a chat's last known one answers "not found" there without being the
    chat's end: nothing bounds a search for a message whose answer was lost.
    """
    bot, other = emulator.bot(), USER + 1
    await started_member(emulator, bot, USER)
    await started_member(emulator, bot, other, "Bo")
    for chat_id, kind in ((-5001, "group"), (-1005002, "supergroup")):
        await emulator.act("/chats", {"bot_id": bot.id, "chat_id": chat_id, "type": kind})
    ids = [
        (await bot.send_message(chat, "hi")).message_id
        for chat in (USER, other, -5001, USER, -1005002, -1005002)
    ]
    starts = 2  # each /start took an id
    assert ids == [starts + 1, starts + 2, starts + 3, starts + 4, 1, 2]
    # The other chat's id, asked of this chat: "not found", with a later message above it.
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="hi", chat_id=USER, message_id=ids[1])
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(text="hi", chat_id=USER, message_id=ids[3])
