"""Issue 12 point 5: member-supplied text (admins' first names, typed values) is escaped."""

from __future__ import annotations

from tests.limits.test_admin_answers import admin_answers
from tests.support.moderation import (
    add_to_admin_chat,
    admin_press,
    card,
    chat,
    confess,
    current,
    number_of,
    shown,
    type_reason,
)
from tests.support.threads import button, hidden_comment, rows
from tests.support.world import World
from tools.devstack.infra.config import InfraConfig


async def test_an_admin_named_like_a_tag_rejects_with_a_typed_reason(
    community: World.Community,
) -> None:
    author = community.member()
    await author.start()
    number = number_of(await confess(author, "hostile names"))
    pending = await card(community, number)
    await admin_press(community, 1, pending, button(pending, "Reject with reason"), "<Ann>")
    picking = await current(community, community.admin_chat_id, pending["message_id"])
    await admin_press(community, 1, picking, button(picking, "Type a reason"), "<Ann>")
    prompt = [m for m in await chat(community, community.admin_chat_id) if m.get("from_bot")][-1]
    assert shown(prompt).startswith("✍️ <Ann>, type the reason")
    reply = await type_reason(community, 1, "a <b reason & more", "<Ann>")
    assert shown(reply) == f"❌ Rejected #{number}: the author is told why."
    decided = await current(community, community.admin_chat_id, pending["message_id"])
    assert shown(decided).endswith("❌ Rejected by <Ann>: a <b reason & more")
    assert not rows(decided)


async def test_a_typed_reason_after_another_admin_decided_names_them_escaped(
    community: World.Community,
) -> None:
    other = 7_000_000_000 + community.id
    await add_to_admin_chat(community, [other])
    author = community.member()
    await author.start()
    number = number_of(await confess(author, "two admins"))
    pending = await card(community, number)
    await admin_press(community, 1, pending, button(pending, "Reject with reason"), "<b")
    picking = await current(community, community.admin_chat_id, pending["message_id"])
    await admin_press(community, 1, picking, button(picking, "Type a reason"), "<b")
    first = await admin_press(community, other, picking, button(picking, "Spam"), "Q & A")
    assert first["answer"]["text"] == "❌ Rejected by Q & A: Spam or advertising"
    late = await type_reason(community, 1, "too late", "<b")
    assert shown(late) == f"#{number} was already handled by Q & A."
    decided = await current(community, community.admin_chat_id, pending["message_id"])
    assert shown(decided).endswith("❌ Rejected by Q & A: Spam or advertising")
    assert not rows(decided)


async def test_a_restored_comment_card_names_an_admin_named_like_a_tag(
    world: World, community: World.Community, infra_config: InfraConfig
) -> None:
    _, _, _, hidden = await hidden_comment(world, community, infra_config, "a joke <3")
    pressed = await admin_press(community, 1, hidden, button(hidden, "Restore"), "<Ann>")
    assert pressed["answer"]["text"] == "↩️ Restored"
    edited = await current(community, community.admin_chat_id, hidden["message_id"])
    assert shown(edited).endswith("↩️ Restored by <Ann>.") and not rows(edited)


async def test_settings_echo_hostile_values_escaped(community: World.Community) -> None:
    typo = await admin_answers(community, "/settings <b 10m")
    assert typo == [
        "⚠️ unknown setting '<b': cooldown, cap, maxlen, filter, words, reasons, publish, "
        "pii, commentfilter, reports or previews"
    ]
    saved = await admin_answers(community, "/settings words add <b>, a&b")
    assert saved[0].startswith("✅ Saved.") and "words: <b>, a&b" in saved[0]
    bad = await admin_answers(community, "/settings cap <i>")
    assert bad == ["⚠️ cap must be a whole number from 0 to 1000 (or off)"]
