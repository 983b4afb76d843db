"""Webhook delivery as Telegram does it, and acting as members."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from tests.support.emulator import Emulator, Receiver, started_member, wait_for

USER = 4_100_000_001
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def _hooked(emulator: Emulator, receiver: Receiver) -> Any:
    bot = emulator.bot()
    assert await bot.set_webhook(receiver.url, secret_token="s3cr3t-Token_1")
    return bot


async def test_update_carries_secret_and_reports_delivery(
    emulator: Emulator, receiver: Receiver
) -> None:
    bot = await _hooked(emulator, receiver)
    result = await emulator.act(f"/bots/{bot.id}/users/{USER}/messages", {"text": "hello"})
    assert (result["status"], result["attempts"]) == (200, 1)
    assert receiver.headers[0][SECRET_HEADER] == "s3cr3t-Token_1"
    update = receiver.updates[0]
    assert update["update_id"] == result["update_id"]
    assert update["message"]["text"] == "hello"
    assert update["message"]["chat"] == {"id": USER, "type": "private", "first_name": "User"}
    info = await bot.get_webhook_info()
    assert info.url == receiver.url and info.pending_update_count == 0


async def test_non_2xx_is_retried_and_reported(emulator: Emulator, receiver: Receiver) -> None:
    bot = await _hooked(emulator, receiver)
    receiver.statuses = [500, 500]
    result = await emulator.act(f"/bots/{bot.id}/users/{USER}/messages", {"text": "again"})
    assert (result["status"], result["attempts"]) == (200, 3)
    assert [u["update_id"] for u in receiver.updates] == [result["update_id"]] * 3
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    receiver.statuses = [503, 503, 503]
    failed = await emulator.act(f"/bots/{bot.id}/users/{USER}/messages", {"text": "lost?"})
    assert (failed["status"], failed["attempts"]) == (503, 3)


async def test_every_update_id_has_a_delivery_record(
    emulator: Emulator, receiver: Receiver
) -> None:
    bot = await _hooked(emulator, receiver)
    done = await emulator.act(f"/bots/{bot.id}/users/{USER}/messages", {"text": "one"})
    receiver.statuses = [502, 502, 502]
    failed = await emulator.act(f"/bots/{bot.id}/users/{USER}/messages", {"text": "two"})
    status, answer = await emulator.control("GET", f"/bots/{bot.id}/deliveries")
    assert status == 200
    records = answer["deliveries"]
    assert records == [
        {
            "update_id": done["update_id"],
            "state": "delivered",
            "attempts": 1,
            "status": 200,
            "error": "",
        },
        {
            "update_id": failed["update_id"],
            "state": "failed",
            "attempts": 3,
            "status": 502,
            "error": "Wrong response from the webhook: 502 Bad Gateway",
        },
    ]


async def test_webhook_removed_while_retrying(emulator: Emulator, receiver: Receiver) -> None:
    bot = await _hooked(emulator, receiver)

    async def leave(update: dict[str, Any]) -> int:
        await bot.delete_webhook()
        return 500

    receiver.handler = leave
    result = await emulator.act(f"/bots/{bot.id}/users/{USER}/messages", {"text": "bye"})
    assert (result["status"], result["attempts"]) == (500, 1)
    assert len(receiver.updates) == 1


async def test_set_webhook_validation(emulator: Emulator, receiver: Receiver) -> None:
    bot = emulator.bot()
    with pytest.raises(TelegramBadRequest, match="loopback"):
        await bot.set_webhook("https://example.org/hook")
    with pytest.raises(TelegramBadRequest, match="secret token contains unallowed characters"):
        await bot.set_webhook(receiver.url, secret_token="has space")
    status, body = await emulator.raw(bot.token, "setWebhook", url=receiver.url, max_connections=0)
    assert status == 400 and "max_connections" in body["description"]
    await bot.set_webhook(receiver.url)
    with pytest.raises(TelegramConflictError, match="can't use getUpdates method while webhook"):
        await bot.get_updates()
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""


async def test_polling_without_webhook(emulator: Emulator) -> None:
    bot = emulator.bot()
    sent = await emulator.act(f"/bots/{bot.id}/users/{USER}/messages", {"text": "poll me"})
    assert sent["status"] is None
    updates = await bot.get_updates(timeout=1)
    assert [u.update_id for u in updates] == [sent["update_id"]]
    assert updates[0].message and updates[0].message.text == "poll me"
    assert await bot.get_updates(offset=sent["update_id"] + 1) == []


async def test_redeliver_sends_the_same_update(emulator: Emulator, receiver: Receiver) -> None:
    bot = await _hooked(emulator, receiver)
    first = await emulator.act(f"/bots/{bot.id}/users/{USER}/messages", {"text": "once"})
    again = await emulator.act(f"/bots/{bot.id}/redeliver", {"update_id": first["update_id"]})
    assert again["status"] == 200
    assert receiver.updates[0] == receiver.updates[1]
    status, _ = await emulator.control("POST", f"/bots/{bot.id}/redeliver", {"update_id": 1})
    assert status == 404


async def test_method_in_webhook_answer_is_executed(emulator: Emulator, receiver: Receiver) -> None:
    bot = await _hooked(emulator, receiver)

    async def reply(update: dict[str, Any]) -> dict[str, Any]:
        chat = update["message"]["chat"]["id"]
        return {"method": "sendMessage", "chat_id": chat, "text": "answered in the reply"}

    receiver.handler = reply
    await emulator.act(f"/bots/{bot.id}/users/{USER}/messages", {"text": "hi"})
    texts = [m["text"] for m in await emulator.messages(bot.id, USER) if m["from_bot"]]
    assert texts == ["answered in the reply"]


async def test_one_chat_in_order_chats_in_parallel(emulator: Emulator, receiver: Receiver) -> None:
    bot = await _hooked(emulator, receiver)
    other = USER + 1
    other_arrived = asyncio.Event()
    in_flight: Counter[int] = Counter()
    most_in_flight: Counter[int] = Counter()
    held: list[int] = []
    waited_out: list[bool] = []

    async def slow(update: dict[str, Any]) -> int:
        chat = update["message"]["chat"]["id"]
        in_flight[chat] += 1
        most_in_flight[chat] = max(most_in_flight[chat], in_flight[chat])
        try:
            if chat == other:
                other_arrived.set()
            elif not held:
                # USER's first update is held until the other member's update
                # arrived: that can only happen if chats are delivered concurrently.
                held.append(update["update_id"])
                try:
                    await asyncio.wait_for(other_arrived.wait(), 3)
                except TimeoutError:
                    waited_out.append(True)
            else:
                # A slow receiver: a second update of the same chat sent before
                # this one was answered would overlap it.
                await asyncio.sleep(0.02)
        finally:
            in_flight[chat] -= 1
        return 200

    receiver.handler = slow
    path = f"/bots/{bot.id}/users/{USER}/messages"
    mine = [asyncio.create_task(emulator.act(path, {"text": f"m{i}"})) for i in range(8)]
    await wait_for(lambda: len(receiver.updates) >= 1)
    await emulator.act(f"/bots/{bot.id}/users/{other}/messages", {"text": "other"})
    results = await asyncio.gather(*mine)
    assert not waited_out, "the other member's update waited for USER's"
    received = [u["message"] for u in receiver.updates if u["message"]["chat"]["id"] == USER]
    ids = [m["message_id"] for m in received]
    # Each exactly once, in the order the emulator created them, one at a time.
    assert sorted(ids) == sorted(r["message_id"] for r in results) and len(ids) == 8
    assert ids == sorted(ids)
    assert [u["update_id"] for u in receiver.updates if u["message"]["chat"]["id"] == USER] == (
        sorted(r["update_id"] for r in results)
    )
    assert most_in_flight[USER] == 1


async def test_button_press_and_its_answer(emulator: Emulator, receiver: Receiver) -> None:
    bot = await _hooked(emulator, receiver)
    await started_member(emulator, bot, USER)
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Yes", callback_data="vote:yes")]]
    )
    sent = await bot.send_message(USER, "Agree?", reply_markup=keyboard)

    async def answer(update: dict[str, Any]) -> int:
        query = update["callback_query"]
        assert query["message"]["message_id"] == sent.message_id
        await bot.answer_callback_query(query["id"], text=f"You chose {query['data']}")
        return 200

    receiver.handler = answer
    press = f"/bots/{bot.id}/users/{USER}/press"
    result = await emulator.act(press, {"message_id": sent.message_id, "data": "vote:yes"})
    assert result["answer"]["text"] == "You chose vote:yes"
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(result["callback_query_id"])
    status, body = await emulator.control(
        "POST", press, {"message_id": sent.message_id, "data": "vote:no"}
    )
    assert status == 400 and "no button" in body["error"]


async def test_press_answered_in_the_webhook_reply(emulator: Emulator, receiver: Receiver) -> None:
    bot = await _hooked(emulator, receiver)
    await started_member(emulator, bot, USER)
    await emulator.act(
        "/chats", {"bot_id": bot.id, "chat_id": -1007, "type": "supergroup", "members": [USER]}
    )
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="Approve", callback_data="ok:1")]]
    )
    sent = await bot.send_message(-1007, "Review", reply_markup=keyboard)

    async def answer(update: dict[str, Any]) -> dict[str, Any]:
        query = update["callback_query"]
        return {
            "method": "answerCallbackQuery",
            "callback_query_id": query["id"],
            "text": "Approved",
            "show_alert": True,
        }

    receiver.handler = answer
    result = await emulator.act(
        f"/bots/{bot.id}/press",
        {"user_id": USER, "chat_id": -1007, "message_id": sent.message_id, "data": "ok:1"},
    )
    assert result["answer"]["text"] == "Approved" and result["answer"]["show_alert"] is True
    query = receiver.updates[-1]["callback_query"]
    assert query["from"]["id"] == USER and query["message"]["chat"]["id"] == -1007
    status, body = await emulator.control(
        "POST",
        f"/bots/{bot.id}/press",
        {"user_id": USER, "chat_id": -1007, "message_id": 999, "data": "ok:1"},
    )
    assert status == 400 and "no message 999" in body["error"]


async def test_deep_link_and_channel_post(emulator: Emulator, receiver: Receiver) -> None:
    bot = await _hooked(emulator, receiver)
    await emulator.act(f"/bots/{bot.id}/users/{USER}/start", {"payload": "c_42"})
    message = receiver.updates[-1]["message"]
    assert message["text"] == "/start c_42"
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    await emulator.act(
        "/chats", {"bot_id": bot.id, "chat_id": -1005, "type": "channel", "bot_is_admin": True}
    )
    await emulator.act(f"/bots/{bot.id}/channel_post", {"chat_id": -1005, "text": "news"})
    post = receiver.updates[-1]["channel_post"]
    assert post["text"] == "news" and post["sender_chat"]["id"] == -1005
