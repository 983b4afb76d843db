"""Issue 12 point 3: /bans, /settings and "✅ Saved" are paged; button answers are plain, ≤ 200."""

from __future__ import annotations

from typing import Any

from tests.support.moderation import admin_press, card, chat, confess, current, number_of, shown
from tests.support.services import Services
from tests.support.threads import button, rows
from tests.support.world import World
from veil.contracts.lengths import CALLBACK_ANSWER_LIMIT, MESSAGE_TEXT_LIMIT
from veil.core.telegram_text import utf16_len
from veil.v1 import confessions_pb2

EMOJI = "😀"


async def admin_answers(
    community: World.Community, text: str, first_name: str = "Ann"
) -> list[str]:
    """Admin 1 writes ``text`` in the admin chat; every answer the bot sent to it (not cards)."""
    sent = await community.world.control(
        "POST",
        f"/bots/{community.bot_id}/users/1/messages",
        {"text": text, "chat_id": community.admin_chat_id, "first_name": first_name},
    )
    answers = [
        shown(m)
        for m in await chat(community, community.admin_chat_id)
        if m.get("from_bot")
        and m["message_id"] > sent["message_id"]
        and not shown(m).startswith("🆕")
    ]
    assert answers, f"no answer to {text[:40]!r}"
    assert all(utf16_len(answer) <= MESSAGE_TEXT_LIMIT for answer in answers)
    return answers


async def test_many_bans_are_listed_over_several_messages(
    community: World.Community, services: Services
) -> None:
    reasons = {}
    for i in range(30):
        member_id = await services.member_id(community, community.member().user_id)
        reasons[f"confession #{i + 1}"] = f"ban {i:02d} " + EMOJI * 100
        await services.members.BanMember(
            confessions_pb2.BanMemberRequest(
                community_id=community.id,
                member_id=member_id,
                reason=reasons[f"confession #{i + 1}"],
                label=f"confession #{i + 1}",
            )
        )
    answers = await admin_answers(community, "/bans")
    assert len(answers) > 1 and answers[0].startswith("Bans (30)")
    listed = "\n".join(answers)
    assert all(f"{label} · permanent — {reason}" in listed for label, reason in reasons.items())


async def test_many_filter_words_are_saved_and_shown_over_several_messages(
    community: World.Community,
) -> None:
    words = [f"{i:03d}" + "w" * 47 for i in range(200)]
    for start in range(0, 200, 50):
        batch = ", ".join(words[start : start + 50])
        saved = await admin_answers(community, f"/settings words add {batch}")
        assert saved[0].startswith("✅ Saved.")
        assert all(word in "".join(saved) for word in words[: start + 50])
    shown_rules = await admin_answers(community, "/settings")
    assert len(shown_rules) > 1 and shown_rules[0].startswith("Community rules")
    assert all(word in "".join(shown_rules) for word in words)


async def _decide(
    community: World.Community, pending: dict[str, Any], label: str, first_name: str
) -> dict[str, Any]:
    return await admin_press(community, 1, pending, button(pending, label), first_name)


async def test_decision_alerts_are_plain_text_within_200(community: World.Community) -> None:
    author = community.member()
    await author.start()
    pending = await card(community, number_of(await confess(author, "approve me")))
    pressed = await _decide(community, pending, "Approve", "Tom & Jerry")
    assert pressed["answer"]["text"] == "✅ Approved by Tom & Jerry"
    decided = await current(community, community.admin_chat_id, pending["message_id"])
    assert shown(decided).endswith("✅ Approved by Tom & Jerry") and not rows(decided)

    reason = EMOJI * 100  # 100 characters, 200 UTF-16 units
    assert (await admin_answers(community, f"/settings reasons add {reason}"))[0].startswith(
        "✅ Saved."
    )
    name = "Ann " + EMOJI * 60
    pending = await card(community, number_of(await confess(author, "reject me")))
    await _decide(community, pending, "Reject with reason", name)
    picking = await current(community, community.admin_chat_id, pending["message_id"])
    pressed = await _decide(community, picking, EMOJI * 10, name)
    alert = pressed["answer"]["text"]
    assert utf16_len(alert) <= CALLBACK_ANSWER_LIMIT
    assert alert.startswith(f"❌ Rejected by {name}: {EMOJI}") and alert.endswith("…")
    decided = await current(community, community.admin_chat_id, pending["message_id"])
    assert shown(decided).endswith(f"❌ Rejected by {name}: {reason}") and not rows(decided)
