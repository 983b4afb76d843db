"""The emulator's memory stays bounded over a long run (make chaos)."""

from __future__ import annotations

from tests.support.emulator import Emulator, Receiver
from tools.telegram_emulator.model import MAX_KEPT_UPDATES, BotState, CallbackQuery


def test_only_the_newest_updates_and_callback_queries_are_kept() -> None:
    bot = BotState(7_000_000_123)
    first = bot.new_update(message={"text": "oldest"})["update_id"]
    for n in range(MAX_KEPT_UPDATES + 4):
        bot.new_update(message={"text": str(n)})
        bot.new_callback(CallbackQuery(f"q{n}", 1))
    assert len(bot.updates) == MAX_KEPT_UPDATES
    assert first not in bot.updates
    assert bot.next_update_id in bot.updates
    assert len(bot.callbacks) == MAX_KEPT_UPDATES
    assert "q0" not in bot.callbacks and f"q{MAX_KEPT_UPDATES + 3}" in bot.callbacks


async def test_no_lock_is_left_behind_per_chat(emulator: Emulator, receiver: Receiver) -> None:
    bot = emulator.bot()
    assert await bot.set_webhook(receiver.url)
    receiver.statuses = [500]  # one delivery is retried: its lock is released as well
    for user in range(4_100_000_200, 4_100_000_230):
        done = await emulator.act(f"/bots/{bot.id}/users/{user}/messages", {"text": "hi"})
        assert done["status"] == 200
    _, stats = await emulator.control("GET", "/stats")
    assert stats["updates_delivered"] == 30
    assert stats["chats_in_delivery"] == 0
