"""A member notice whose call got no answer is sent again: the documented window, exactly.

Cards and channel posts are probed for before they go out again
(test_unsure_sends.py); a notice to a private chat is not, because real
Telegram gives nothing to probe with (README, "Sent twice?"): a private chat's
message ids come from the bot's own counter shared by all its private chats, so
nothing bounds the ids to look through, and a plain notice carries no buttons
that would tell it from the bot's other messages. So the notifier is
at-least-once for notices, and this test pins what that window allows and
nothing more: Telegram accepts the notice but the worker never hears back (it
times out, as it did under load in test_burst.py), so the notice shows twice,
back to back; its row records the second claim; the chat's next notice follows
once, in order.
"""

from __future__ import annotations

import secrets

from tests.support.outbox import bot_calls, settled, text_call
from tests.support.world import World
from veil.core.db import Database
from veil.core.outbox import Outbox

# Longer than the test stack's Bot API timeout (VEIL_NOTIFIER_REQUEST_TIMEOUT_SECONDS=2):
# the worker gives up waiting before the emulator drops the answer.
HOLD_SECONDS = 5


async def test_a_notice_whose_answer_timed_out_is_shown_twice_back_to_back(
    world: World, outbox: Outbox, notifier_db: Database
) -> None:
    community = await world.create_community("Unanswered notice")
    member = community.member()
    await member.start()
    run = secrets.token_hex(4)
    # Telegram makes the call; its answer never reaches the worker.
    await world.control(
        "POST",
        "/fail",
        {
            "method": "sendMessage",
            "chat_id": member.user_id,
            "after": True,
            "hold_seconds": HOLD_SECONDS,
            "count": 1,
        },
    )
    texts = [f"notice {run} {i}" for i in range(2)]
    ids = await outbox.send(
        [text_call(community, member.user_id, t, f"unanswered:{run}:{t}") for t in texts]
    )
    first, second = await settled(notifier_db, ids, within=60)
    assert (first.status, second.status) == ("sent", "sent")

    shown = [
        m["text"]
        for m in await world.chat_messages(community.bot_id, member.user_id)
        if m["from_bot"] and str(m.get("text", "")).startswith(f"notice {run}")
    ]
    # The lost answer's notice twice, back to back; nothing else repeated, order kept.
    assert shown == [texts[0], texts[0], texts[1]]
    # The repeat is accounted for: the first notice was claimed twice, the second once.
    assert (first.attempts, second.attempts) == (2, 1)
    sends = [
        c
        for c in await bot_calls(world, community.bot_id, "sendMessage")
        if str(c["params"].get("text", "")).startswith(f"notice {run}")
    ]
    assert [(c["params"]["text"], c.get("answer_lost", False)) for c in sends] == [
        (texts[0], True),
        (texts[0], False),
        (texts[1], False),
    ]
    # No probe was made in a private chat (there is nothing honest to probe with).
    edits = await bot_calls(world, community.bot_id, "editMessageReplyMarkup")
    assert not [c for c in edits if str(c["params"].get("chat_id")) == str(member.user_id)]
