"""Decisions on cards: reasons (picked or typed), outsiders refused, exactly one winner."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc

from tests.support.moderation import (
    add_to_admin_chat,
    admin_press,
    admin_says,
    card,
    confess,
    current,
    number_of,
    shown,
    wait_for,
)
from tests.support.threads import button, rows
from tests.support.world import World, new_user_id
from tools.devstack.stack import Stack
from veil.v1 import common_pb2, confessions_pb2, confessions_pb2_grpc


async def test_reject_with_a_picked_reason_tells_the_author(community: World.Community) -> None:
    author = community.member()
    await author.start()
    number = number_of(await confess(author, "my roommate's name is on this"))
    pending = await card(community, number)
    await admin_press(community, 1, pending, button(pending, "Reject with reason"))
    picking = await current(community, community.admin_chat_id, pending["message_id"])
    labels = [label for row in rows(picking) for label, _ in row]
    assert "Could identify someone" in labels and "✍️ Type a reason" in labels
    # ⬅️ Back restores the card's own buttons; nothing was decided.
    await admin_press(community, 1, picking, button(picking, "Back"))
    back = await current(community, community.admin_chat_id, pending["message_id"])
    assert button(back, "Approve")
    await admin_press(community, 1, back, button(back, "Reject with reason"))
    picking = await current(community, community.admin_chat_id, pending["message_id"])
    pressed = await admin_press(
        community, 1, picking, button(picking, "Could identify someone"), "Bob"
    )
    assert pressed["answer"]["text"] == "❌ Rejected by Bob: Could identify someone"
    decided = await current(community, community.admin_chat_id, pending["message_id"])
    assert shown(decided).endswith("❌ Rejected by Bob: Could identify someone")
    assert not rows(decided)
    notice = await wait_for(author.last, lambda m: "not published" in shown(m), "no notice")
    assert "Reason: Could identify someone" in shown(notice)
    # The next card shows the author's history, in numbers only.
    second = number_of(await confess(author, "second try"))
    assert "✅ 0 approved · ❌ 1 rejected" in shown(await card(community, second))


async def test_reject_with_a_typed_reason(community: World.Community) -> None:
    author = community.member()
    await author.start()
    number = number_of(await confess(author, "typed reason please"))
    pending = await card(community, number)
    await admin_press(community, 1, pending, button(pending, "Reject with reason"))
    picking = await current(community, community.admin_chat_id, pending["message_id"])
    await admin_press(community, 1, picking, button(picking, "Type a reason"), "Cleo")
    prompt = (await current_replies(community))[-1]
    assert "Cleo, type the reason" in shown(prompt)
    reply = await admin_says(
        community, 1, "Please no <names> & no places", "Cleo", reply_to=prompt["message_id"]
    )
    assert shown(reply) == f"❌ Rejected #{number}: the author is told why."
    decided = await current(community, community.admin_chat_id, pending["message_id"])
    assert shown(decided).endswith("❌ Rejected by Cleo: Please no <names> & no places")
    assert "&lt;names&gt; &amp;" in decided["html"]
    notice = await wait_for(author.last, lambda m: "not published" in shown(m), "no notice")
    assert "Reason: Please no <names> & no places" in shown(notice)


async def current_replies(community: World.Community) -> list[dict[str, Any]]:
    """The bot's messages in the admin chat."""
    messages = await community.world.chat_messages(community.bot_id, community.admin_chat_id)
    return [m for m in messages if m.get("from_bot")]


async def test_someone_outside_the_admin_chat_cannot_decide(community: World.Community) -> None:
    author = community.member()
    await author.start()
    number = number_of(await confess(author, "outsiders keep out"))
    pending = await card(community, number)
    outsider = new_user_id()
    for label in ("Approve", "Reject", "Ban author", "Reject with reason"):
        pressed = await admin_press(community, outsider, pending, button(pending, label))
        assert pressed["answer"]["text"] == "Only the community's admins can do this."
        assert pressed["answer"]["show_alert"] is True
    unchanged = await current(community, community.admin_chat_id, pending["message_id"])
    assert unchanged["html"] == pending["html"] and rows(unchanged) == rows(pending)
    assert "waiting for review" in shown(await _my(author))


async def _my(member: Any) -> dict[str, Any]:
    await member.send("/my")
    return dict(await member.last())


async def _submit_many(
    stub: confessions_pb2_grpc.ConfessionsServiceStub, community: World.Community, count: int
) -> list[confessions_pb2.Confession]:
    """``count`` pending confessions of as many members, straight through the service."""
    submitted = []
    for i in range(count):
        response = await stub.SubmitConfession(
            confessions_pb2.SubmitConfessionRequest(
                actor=common_pb2.Actor(
                    community_id=community.id, telegram_user_id=community.member().user_id
                ),
                text=f"race {i}",
                idempotency_key=f"race:{i}",
            )
        )
        submitted.append(response.confession)
    return submitted


async def _race_in_community(world: World, trials: int) -> list[tuple[bool, bool, bool]]:
    """``trials`` confessions, each pressed by two admins at once (approve vs reject):
    (exactly one won, the card shows its decision alone, both presses reached the bot)."""
    community = await world.create_community()
    admins = [new_user_id() for _ in range(10)]
    await add_to_admin_chat(community, admins)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{world.stack.ports.confessions}") as channel:
        stub = confessions_pb2_grpc.ConfessionsServiceStub(channel)
        submitted = await _submit_many(stub, community, trials)
    cards = await asyncio.gather(*(card(community, c.number) for c in submitted))

    async def press(user: int, pending: dict[str, Any], label: str, name: str) -> bool | None:
        """Whether ``user``'s press won; None when the card had lost its buttons
        before the emulator took the press (the other decision had landed)."""
        try:
            answer = await admin_press(community, user, pending, button(pending, label), name)
        except AssertionError as refused:
            if "has no button" not in str(refused):
                raise
            return None
        return not str(answer["answer"]["text"]).startswith("Already handled")

    async def trial(i: int, pending: dict[str, Any]) -> tuple[bool, bool, bool]:
        first, second = admins[(2 * i) % 10], admins[(2 * i + 1) % 10]
        won = await asyncio.gather(
            press(first, pending, "Approve", "First"), press(second, pending, "Reject", "Second")
        )
        decided = await current(community, community.admin_chat_id, pending["message_id"])
        text = shown(decided)
        # The card shows exactly one decision, the winner's, and lost its buttons.
        outcomes = text.count("Approved by") + text.count("Rejected by")
        winner = "First" if won[0] else "Second"
        return (
            sum(bool(w) for w in won) == 1,
            outcomes == 1 and f"by {winner}" in text and not rows(decided),
            None not in won,
        )

    return list(await asyncio.gather(*(trial(i, c) for i, c in enumerate(cards))))


async def test_two_admins_pressing_at_once_exactly_one_wins(world: World, stack: Stack) -> None:
    # Three communities (a group takes 20 cards a minute), 17 trials each, all at once.
    results = [
        r
        for rs in await asyncio.gather(*(_race_in_community(world, 17) for _ in range(3)))
        for r in rs
    ]
    assert len(results) >= 50
    assert all(one_winner for one_winner, _, _ in results)
    assert all(card_ok for _, card_ok, _ in results)
    # Under this load a press now and then reaches the emulator after the other
    # decision edited the card (one in 51 seen); most trials are true races.
    assert sum(raced for _, _, raced in results) >= len(results) // 2


async def test_concurrent_decisions_in_the_service_exactly_one_wins(
    community: World.Community, stack: Stack
) -> None:
    """The same race without the emulator's per-chat ordering: calls truly in parallel."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.ports.confessions}") as channel:
        stub = confessions_pb2_grpc.ConfessionsServiceStub(channel)
        ids = [c.id for c in await _submit_many(stub, community, 60)]

        async def decide(confession_id: int, action: int, who: str) -> bool:
            response = await stub.ModerateConfession(
                confessions_pb2.ModerateConfessionRequest(
                    community_id=community.id,
                    confession_id=confession_id,
                    action=confessions_pb2.ModerationAction.ValueType(action),
                    moderator=who,
                )
            )
            return bool(response.won)

        outcomes = await asyncio.gather(
            *(
                asyncio.gather(
                    decide(i, confessions_pb2.MODERATION_ACTION_APPROVE, "A"),
                    decide(i, confessions_pb2.MODERATION_ACTION_REJECT, "B"),
                )
                for i in ids
            )
        )
    assert all(sum(pair) == 1 for pair in outcomes), outcomes
