"""Answers that ride in the webhook's 200 (services/gateway/webhook_reply.py).

The gateway's 200 to Telegram may carry one Bot API call whose result nobody
needs: the update's last one (/me's answer, the edit after a button press).
Calls before it go out first, in the handler's order. Only a handled update
gets it (the failure-table tests prove a failed one is redelivered).
"""

from __future__ import annotations

import orjson

from services.gateway.views import texts
from tests.support.metrics import samples
from tests.support.webhook import community_secret, message_update, post_update
from tests.support.world import World, buttons


async def test_me_is_answered_in_the_webhook_response(
    world: World, community: World.Community
) -> None:
    member = community.member()
    await member.start()
    before = len(await member.bot_messages())
    status, body = await post_update(
        world,
        community.id,
        orjson.dumps(message_update(910_000_001, member.user_id, "/me")),
        community_secret(world, community),
    )
    assert status == 200
    answer = orjson.loads(body)
    assert answer["method"] == "sendMessage" and answer["chat_id"] == member.user_id
    assert "Your profile" in answer["text"] and answer["parse_mode"] == "HTML"
    # Posted by the test, not by the emulator: nobody executed it, so the bot
    # made no call of its own for it.
    assert len(await member.bot_messages()) == before
    # Through the emulator (as Telegram would) the member does get it.
    await member.send("/me")
    assert (await member.last())["html"] == answer["text"]


async def test_a_button_press_answers_first_and_its_edit_rides_in_the_response(
    world: World, community: World.Community
) -> None:
    member = community.member()
    await member.send("✍️ New confession")
    await member.send("answered in the webhook response")
    preview = await member.last()
    before = await _in_reply(world)
    pressed = await member.press(preview["message_id"], buttons(preview)["✖️ Cancel"])
    assert pressed["status"] == 200 and pressed["attempts"] == 1
    calls = await world.control("GET", f"/bots/{community.bot_id}/calls?method=answerCallbackQuery")
    answered = [
        c
        for c in calls["calls"]
        if c["params"]["callback_query_id"] == pressed["callback_query_id"]
    ]
    # The press was answered once, by a request of its own made before the edit.
    assert [c["ok"] for c in answered] == [True]
    edited = next(
        m for m in await member.bot_messages() if m["message_id"] == preview["message_id"]
    )
    assert edited["text"] == texts.CANCELLED and not buttons(edited)
    after = await _in_reply(world)
    # The edit, the update's last call, rode in the 200; the answer did not.
    assert after.get("editMessageText", 0) == before.get("editMessageText", 0) + 1
    assert after.get("answerCallbackQuery", 0) == before.get("answerCallbackQuery", 0)


async def _in_reply(world: World) -> dict[str, float]:
    """Bot API methods the gateway has put in webhook answers, by method."""
    async with world.http.get(
        f"http://127.0.0.1:{world.stack.ports.metrics('gateway')}/metrics"
    ) as response:
        page = await response.text()
    return {
        labels["method"]: value
        for name, labels, value in samples(page)
        if name == "veil_gateway_bot_api_calls_total" and labels.get("code") == "webhook answer"
    }
