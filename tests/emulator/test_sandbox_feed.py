"""The sandbox's event stream and files, through the real emulator and a real aiogram Bot."""

from __future__ import annotations

from aiogram.types import BufferedInputFile

from tests.support.emulator import Emulator, Receiver, started_member
from tests.support.sandbox_events import stream

USER = 4_400_000_001
ADMIN = 4_400_000_002
GROUP = -1_004_400_000_001
CHANNEL = -1_004_400_000_002


async def test_sent_edited_and_deleted_messages_are_pushed(
    emulator: Emulator, receiver: Receiver
) -> None:
    bot = emulator.bot()
    assert await bot.set_webhook(receiver.url)
    await started_member(emulator, bot, USER, "Ann")
    async with stream(emulator.http, emulator.url, bot.id) as events:
        # A new stream starts with what is there: the member's /start.
        start = await events.message(USER, "/start")
        assert start["from_bot"] is False and start["from"]["first_name"] == "Ann"

        sent = await bot.send_message(
            USER,
            "Hello <b>bold</b> <tg-spoiler>secret</tg-spoiler> 😀 <i>it</i>",
            parse_mode="HTML",
        )
        pushed = await events.message(USER, "Hello")
        assert pushed["message_id"] == sent.message_id and pushed["from_bot"] is True
        # Entities as Telegram gives them, offsets in UTF-16 units (😀 counts two).
        assert pushed["text"] == "Hello bold secret 😀 it"
        assert pushed["entities"] == [
            {"type": "bold", "offset": 6, "length": 4},
            {"type": "spoiler", "offset": 11, "length": 6},
            {"type": "italic", "offset": 21, "length": 2},
        ]
        assert pushed["edit_date"] is None

        await bot.edit_message_text("Hello again", chat_id=USER, message_id=sent.message_id)
        edited = await events.message(USER, "Hello again")
        assert edited["message_id"] == sent.message_id and edited["edit_date"] is not None

        await bot.delete_message(USER, sent.message_id)
        name, gone = await events.next()
        assert name == "message" and gone["message_id"] == sent.message_id
        assert gone["deleted"] is True

        # A member acting through the control API is pushed too.
        await emulator.act(f"/bots/{bot.id}/users/{USER}/messages", {"text": "from the member"})
        mine = await events.message(USER, "from the member")
        assert mine["from_bot"] is False


async def test_chats_event_lists_members_groups_and_channels(
    emulator: Emulator, receiver: Receiver
) -> None:
    bot = emulator.bot()
    assert await bot.set_webhook(receiver.url)
    for chat_id, kind in ((GROUP, "supergroup"), (CHANNEL, "channel")):
        await emulator.act(
            "/chats",
            {
                "bot_id": bot.id,
                "chat_id": chat_id,
                "type": kind,
                "title": f"the {kind}",
                "admins": [ADMIN],
                "bot_is_admin": True,
            },
        )
    async with stream(emulator.http, emulator.url, bot.id) as events:
        first = await events.chats()
        me = await bot.get_me()
        assert first["bot"]["username"] == me.username
        assert first["members"] == []
        assert first["groups"] == [
            {
                "id": GROUP,
                "title": "the supergroup",
                "type": "supergroup",
                "admins": [{"id": ADMIN, "first_name": "User"}],
                "members": [{"id": ADMIN, "first_name": "User"}],
            }
        ]
        assert first["channels"] == [{"id": CHANNEL, "title": "the channel", "username": None}]
        # A member opening the bot changes the list: pushed again.
        await started_member(emulator, bot, USER, "Bea")
        later = await events.chats()
        assert later["members"] == [{"id": USER, "first_name": "Bea"}]
        # A photo the bot posts in the channel arrives with its caption and entities.
        photo = BufferedInputFile(b"\x89PNG not really", filename="p.png")
        await bot.send_photo(CHANNEL, photo, caption="<b>#1</b> a caption", parse_mode="HTML")
        post = await events.message(CHANNEL, "a caption")
        assert post["media"]["type"] == "photo" and post["caption"] == "#1 a caption"
        assert post["caption_entities"] == [{"type": "bold", "offset": 0, "length": 2}]


async def test_page_files_and_bot_list(emulator: Emulator, receiver: Receiver) -> None:
    hooked, unhooked = emulator.bot(), emulator.bot()
    assert await hooked.set_webhook(receiver.url)
    await unhooked.get_me()
    async with emulator.http.get(f"{emulator.url}/sandbox/api/bots") as response:
        listed = [b["bot"]["id"] for b in (await response.json())["bots"]]
    # Only bots a gateway serves (with a webhook) are offered.
    assert listed == [hooked.id]
    async with emulator.http.get(f"{emulator.url}/sandbox?bot={hooked.id}") as response:
        assert response.url.path == "/sandbox/" and response.url.query["bot"] == str(hooked.id)
        page = await response.text()
    assert '<script src="app.js"' in page and 'href="style.css"' in page
    for name, kind in (("app.js", "javascript"), ("style.css", "text/css")):
        async with emulator.http.get(f"{emulator.url}/sandbox/{name}") as response:
            assert response.status == 200 and kind in response.headers["Content-Type"]
    # Only the page's own files are served, nothing else of the package.
    async with emulator.http.get(f"{emulator.url}/sandbox/__init__.py") as response:
        assert response.status == 404


async def test_a_reset_is_pushed_and_the_stream_starts_again(
    emulator: Emulator, receiver: Receiver
) -> None:
    bot = emulator.bot()
    assert await bot.set_webhook(receiver.url)
    await started_member(emulator, bot, USER, "Ann")
    async with stream(emulator.http, emulator.url, bot.id) as events:
        await events.message(USER, "/start")
        await emulator.act("/reset")
        name, _ = await events.next()
        assert name == "reset"
        # The same ids again after the reset are sent again, not taken as already shown.
        await started_member(emulator, bot, USER, "Ann")
        again = await events.message(USER, "/start")
        assert again["message_id"] == 1
