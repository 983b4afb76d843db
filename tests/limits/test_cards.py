"""Issue 12 point 2: admin cards and decided cards fit Telegram's limits (text and caption)."""

from __future__ import annotations

from typing import Any

from tests.support.moderation import (
    admin_press,
    admin_says,
    card,
    confess,
    current,
    number_of,
    shown,
    type_reason,
)
from tests.support.threads import button, rows
from tests.support.world import World
from veil.contracts.lengths import CAPTION_LIMIT, MESSAGE_TEXT_LIMIT
from veil.core.telegram_text import utf16_len

EMOJI = "😀"
# Telegram allows first names of up to 64 characters; admins pick their own.
LONG_NAME = "Bartholomew-Maximilian Alexandrina-Konstantinopoulou the Third"
REASON = "Names a teacher, a room and a date: anyone in that class would know who. " + "!" * 26


async def _reject_with_typed_reason(community: World.Community, pending: dict[str, Any]) -> str:
    """The admin with the long name rejects ``pending`` with a 100-character typed reason."""
    await admin_press(community, 1, pending, button(pending, "Reject with reason"), LONG_NAME)
    picking = await current(community, community.admin_chat_id, pending["message_id"])
    await admin_press(community, 1, picking, button(picking, "Type a reason"), LONG_NAME)
    return shown(await type_reason(community, 1, REASON, LONG_NAME))


async def test_a_long_flagged_confession_is_carded_and_a_long_decision_edits_it(
    community: World.Community,
) -> None:
    word = "w" * 50
    assert shown(await admin_says(community, 1, f"/settings words add {word}")).startswith(
        "✅ Saved"
    )
    author = community.member()
    await author.start()
    text = EMOJI * 1000 + f" {word} " + "x" * 1948  # 4,000 UTF-16 units
    number = number_of(await confess(author, text))
    pending = await card(community, number)
    assert utf16_len(shown(pending)) <= MESSAGE_TEXT_LIMIT
    assert shown(pending).endswith(f"⚠️ Flagged: contains “{word}”")
    assert EMOJI * 1000 in shown(pending) and "…" in shown(pending)
    assert button(pending, "Approve")

    assert await _reject_with_typed_reason(community, pending) == (
        f"❌ Rejected #{number}: the author is told why."
    )
    decided = await current(community, community.admin_chat_id, pending["message_id"])
    assert shown(decided).endswith(f"❌ Rejected by {LONG_NAME}: {REASON}")
    assert not rows(decided)


async def test_a_media_card_keeps_room_for_the_decision_in_its_caption(
    community: World.Community,
) -> None:
    author = community.member()
    await author.start()
    await author.send("✍️ New confession")
    caption = EMOJI * 450  # 900 units: the longest caption a media confession may have
    await community.world.control(
        "POST",
        f"/bots/{community.bot_id}/users/{author.user_id}/messages",
        {"media": "photo", "caption": caption, "first_name": author.first_name},
    )
    preview = await author.last()
    assert preview.get("media") and caption in shown(preview)
    await author.press(preview["message_id"], button(preview, "Send"))
    received = shown(await author.last())
    assert "waiting for review" in received
    number = int(received.split("#")[1].split()[0])
    pending = await card(community, number)
    assert utf16_len(shown(pending)) <= CAPTION_LIMIT and pending["media"]["type"] == "photo"
    await _reject_with_typed_reason(community, pending)
    decided = await current(community, community.admin_chat_id, pending["message_id"])
    assert shown(decided).endswith(f"❌ Rejected by {LONG_NAME}: {REASON}")
    assert utf16_len(shown(decided)) <= CAPTION_LIMIT and not rows(decided)
