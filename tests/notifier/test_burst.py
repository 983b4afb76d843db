"""A burst under Telegram's flood limits, sent by three worker processes at once.

3,000 messages to 500 members of two bots: the emulator enforces 30 messages
per second per bot and one per second per private chat, and answers 429 beyond
that. Every message arrives, in order per chat, and no 429 is ever received.
Exactly once, except inside the notifier's documented window for member
notices (README, "Sent twice?"; test_unanswered_notices.py): on a loaded
machine the emulator can answer later than the worker's Bot API timeout, the
call having been made, and the notice then shows twice, back to back. The
test allows that and nothing more: a repeat must be adjacent, and its row must
record the extra claim the lost answer caused. The rate is printed (``pytest
-s``); ``make bench-notifier`` measures it properly.
"""

from __future__ import annotations

import secrets
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from tests.support.outbox import (
    TELEGRAM_LIMITS,
    bot_calls,
    scrape,
    settled,
    started_members,
    text_call,
)
from tests.support.world import World
from tools.devstack.stack import Stack
from veil.core.db import Database
from veil.core.outbox import Outbox

MEMBERS_PER_BOT = 250
ROUNDS = 6  # messages per member: 2 bots x 250 members x 6 = 3,000


async def test_burst_is_delivered_completely_in_order_without_429(
    world: World,
    outbox: Outbox,
    notifier_db: Database,
    flood: Callable[..., Awaitable[None]],
    more_workers: Callable[[int], list[tuple[str, int, int]]],
    stack: Stack,
    http: aiohttp.ClientSession,
) -> None:
    communities = [await world.create_community(f"Burst {n}") for n in range(2)]
    members = {c.id: await started_members(c, MEMBERS_PER_BOT) for c in communities}
    workers = more_workers(2)  # the stack's own worker is the third
    await flood()
    run = secrets.token_hex(4)
    ids: list[int] = []
    for i in range(ROUNDS):
        # One round is one request: message i to every member of both bots.
        ids += await outbox.send(
            [
                text_call(c, m.user_id, f"burst {run} {i}", f"burst:{run}:{c.id}:{m.user_id}:{i}")
                for c in communities
                for m in members[c.id]
            ]
        )
    assert len(set(ids)) == len(communities) * MEMBERS_PER_BOT * ROUNDS

    outcome = await settled(notifier_db, ids, within=240)
    assert {r.status for r in outcome} == {"sent"}
    # (bot, chat, text) → how many times its row was claimed (ids follow the enqueue order).
    sends = [
        (c.id, m.user_id, f"burst {run} {i}")
        for i in range(ROUNDS)
        for c in communities
        for m in members[c.id]
    ]
    claims = {send: row.attempts for send, row in zip(sends, outcome, strict=True)}

    allowed = TELEGRAM_LIMITS["per_bot_per_second"]
    expected = [f"burst {run} {i}" for i in range(ROUNDS)]
    total_rate = 0.0
    for community in communities:
        calls = [
            c
            for c in await bot_calls(world, community.bot_id, "sendMessage")
            if str(c["params"].get("text", "")).startswith(f"burst {run}")
        ]
        rate = _rate(calls)
        total_rate += rate
        print(
            f"\nburst: community {community.id}: {len(calls)} calls, {rate:.1f} msgs/s of "
            f"{allowed}/s allowed ({rate / allowed:.1%})"
        )
        failed = [c for c in calls if not c["ok"]]
        assert not failed, _explain(failed, calls)  # not one 429 (nor anything else)
        per_chat: dict[int, list[str]] = defaultdict(list)
        for call in calls:
            per_chat[int(call["params"]["chat_id"])].append(call["params"]["text"])
        # Complete and in enqueue order for every member, a repeat only back to back...
        assert {chat: _collapsed(texts) for chat, texts in per_chat.items()} == {
            m.user_id: expected for m in members[community.id]
        }
        # ...and only as often as the message was claimed again after an unanswered call.
        repeats = {
            (community.id, chat, text): n
            for chat, texts in per_chat.items()
            for text, n in Counter(texts).items()
            if n > 1
        }
        assert all(n <= claims[send] for send, n in repeats.items()), (repeats, claims)
        if repeats:
            print(f"burst: {len(repeats)} notices shown twice after an unanswered call")
    print(f"burst: both bots: {total_rate:.1f} msgs/s ({total_rate / 2 / allowed:.1%})")
    ports = [stack.ports.notifier_worker_metrics, *(port for _, _, port in workers)]
    pages = [await scrape(http, port) for port in ports]
    for name in ("veil_notifier_missed_slots_total", "veil_notifier_throttled_total"):
        count = sum(v for page in pages for (n, _), v in page.items() if n == name)
        print(f"burst: {name} {count:.0f}")


def _collapsed(texts: list[str]) -> list[str]:
    """The texts with back-to-back repeats shown once."""
    return [text for n, text in enumerate(texts) if n == 0 or texts[n - 1] != text]


def _rate(calls: list[dict[str, Any]]) -> float:
    """Messages per second between the first and the last call of a bot."""
    times = sorted(float(c["time"]) for c in calls)
    return (len(times) - 1) / (times[-1] - times[0])


def _explain(failed: list[dict[str, Any]], calls: list[dict[str, Any]]) -> str:
    """Which of Telegram's limits each refused call broke (by the emulator's clock)."""
    lines = []
    for call in failed:
        moment, chat = float(call["time"]), call["params"]["chat_id"]
        bot = [c for c in calls if c["ok"] and moment - 1.0 < float(c["time"]) <= moment]
        same = [c for c in bot if c["params"]["chat_id"] == chat]
        lines.append(
            f"{call.get('description')}: {len(bot)} of the bot's and {len(same)} of the "
            "chat's messages in the second before"
        )
    return "\n".join(lines)
