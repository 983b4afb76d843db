"""Admin actions on what an author erased: a pending card, a typed reason, /ban #N."""

from __future__ import annotations

from tests.support.moderation import (
    admin_press,
    admin_says,
    card,
    confess,
    current,
    erase,
    number_of,
    shown,
    type_reason,
)
from tests.support.stale_press import stale_press
from tests.support.threads import button, replica_caught_up, rows
from tests.support.world import World
from tools.devstack.infra.config import InfraConfig

WITHDRAWN = "🗑 Withdrawn by its author: there is nothing to decide."


def _not_decided(text: str) -> None:
    """Nobody decided a withdrawn confession: the card must not say anyone did."""
    assert "Rejected by" not in text and "Approved by" not in text, text
    assert "handled by" not in text, text


async def test_a_press_on_the_card_of_a_withdrawn_confession(
    community: World.Community,
) -> None:
    author = community.member()
    await author.start()
    number = number_of(await confess(author, "I will take this back"))
    pending = await card(community, number)
    await erase(author)
    # The press Telegram delivers for the card as the admin saw it.
    for label in ("Approve", "Reject"):
        status = await stale_press(
            community, 1, pending, button(pending, label), chat_id=community.admin_chat_id
        )
        assert status == 200
        now = await current(community, community.admin_chat_id, pending["message_id"])
        _not_decided(shown(now))
        assert shown(now) == f"🆕 #{number}\n\n[withdrawn]\n\n{WITHDRAWN}"
        assert "I will take this back" not in shown(now)
        assert not rows(now)


async def test_a_typed_reason_for_a_withdrawn_confession(community: World.Community) -> None:
    author = community.member()
    await author.start()
    number = number_of(await confess(author, "reason me later"))
    pending = await card(community, number)
    await admin_press(community, 1, pending, button(pending, "Reject with reason"))
    picking = await current(community, community.admin_chat_id, pending["message_id"])
    await admin_press(community, 1, picking, button(picking, "Type a reason"), "Cleo")
    # The author erases their data while the admin types.
    await erase(author)
    reply = await type_reason(community, 1, "too personal", "Cleo")
    assert shown(reply) == WITHDRAWN
    now = await current(community, community.admin_chat_id, pending["message_id"])
    _not_decided(shown(now))
    assert "[withdrawn]" in shown(now) and not rows(now)


async def test_ban_by_the_number_of_an_erased_author(
    community: World.Community, infra_config: InfraConfig
) -> None:
    author = community.member()
    await author.start()
    number = number_of(await confess(author, "ban me if you can"))
    await card(community, number)
    await erase(author)
    # "#N" is looked up on the replica.
    await replica_caught_up(infra_config)
    answer = await admin_says(community, 1, f"/ban #{number} 1d spam")
    assert shown(answer) == (
        f"⚠️ The author of #{number} has deleted their data: there is nobody to ban or unban."
    )
    # Bans are lifted per ban, never looked up by member: no ban has that label.
    answer = await admin_says(community, 1, f"/unban #{number}")
    assert shown(answer) == f"No such ban: confession #{number}."
