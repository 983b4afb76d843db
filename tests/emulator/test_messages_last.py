"""``GET …/chats/{id}/messages?last=N``: a driver reads the newest messages only."""

from __future__ import annotations

from tests.support.emulator import Emulator, started_member

USER = 4_000_000_031


async def test_last_gives_the_newest_messages_oldest_first(emulator: Emulator) -> None:
    bot = emulator.bot()
    await started_member(emulator, bot, USER)
    sent = [(await bot.send_message(USER, f"number {i}")).message_id for i in range(4)]
    await bot.delete_message(USER, sent[-1])
    status, answer = await emulator.control("GET", f"/bots/{bot.id}/chats/{USER}/messages?last=2")
    assert status == 200
    assert [m["message_id"] for m in answer["messages"]] == sent[1:3]
    everything = await emulator.messages(bot.id, USER)
    assert len(everything) > 2 and everything[-2:] == answer["messages"]
