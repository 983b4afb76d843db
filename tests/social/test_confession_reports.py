"""Reporting a confession on the channel (issue 16), through the emulator: 🚩 under
its thread, a reason, weighted reports; at the threshold the admins get a card
(reasons and the weighted total, no reporter) with take down / keep."""

from __future__ import annotations

from typing import Any

from tests.support.miniapp import channel_posts
from tests.support.moderation import admin_press, chat, set_report_threshold, shown, wait_for
from tests.support.threads import button, open_thread, publish, reply
from tests.support.world import Member, World


async def _report(member: Member, number: int, reason: str) -> str:
    """🚩 Report confession under thread ``number``, then ``reason``; the answer."""
    view = await open_thread(member, number)
    await member.press(view["message_id"], button(view, "🚩 Report confession"))
    picker = await reply(member)
    assert shown(picker) == f"Why are you reporting confession #{number}?"
    pressed = await member.press(picker["message_id"], button(picker, reason))
    return str(pressed["answer"]["text"])


async def _card(community: World.Community, number: int) -> dict[str, Any]:
    head = f"🚩 Confession #{number} was reported"
    messages = await wait_for(
        lambda: chat(community, community.admin_chat_id),
        lambda ms: any(shown(m).startswith(head) for m in ms),
        f"no reported-confession card for #{number}",
    )
    return next(m for m in messages if shown(m).startswith(head))


async def test_reported_confessions_are_taken_down_or_kept_by_the_admins(
    community: World.Community, infra_config: Any
) -> None:
    # Fresh accounts weigh 0.2: three of them reach this threshold.
    await set_report_threshold(community, "0.6")
    author = community.member()
    await author.start()
    doomed = await publish(author, infra_config, "names my flatmate", channel_post=True)
    fine = await publish(author, infra_config, "a harmless secret", channel_post=True)

    reporters = [community.member() for _ in range(3)]
    answers = [
        await _report(reporter, doomed, reason)
        for reporter, reason in zip(
            reporters, ("Personal information", "Personal information", "Harassment"), strict=True
        )
    ]
    assert answers == ["Reported. Thank you."] * 3
    assert await _report(reporters[0], doomed, "Spam") == "You reported this already."
    card = await _card(community, doomed)
    assert "was reported 3 times" in shown(card) and "⚖️ Weighted 0.6 of 0.6" in shown(card)
    assert "Reasons: personal information: 2 · harassment: 1" in shown(card)
    for reporter in [*reporters, author]:
        assert str(reporter.user_id) not in str(card)

    taken = await admin_press(community, 1, card, button(card, "Take down"))
    assert taken["answer"]["text"] == "🗑 Taken down"
    await wait_for(
        lambda: channel_posts(community, doomed), lambda posts: not posts, "the post stayed"
    )
    assert "not available" in shown(await open_thread(community.member(), doomed))

    for reporter in [community.member() for _ in range(3)]:
        await _report(reporter, fine, "Other")
    fine_card = await _card(community, fine)
    kept = await admin_press(community, 1, fine_card, button(fine_card, "Keep"))
    assert kept["answer"]["text"] == "✔️ Kept"
    assert await channel_posts(community, fine)
