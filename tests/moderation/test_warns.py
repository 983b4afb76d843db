"""Warns: /warn and the card's ⚠️ Warn, the member told, expiry, escalation to a
timed ban, and /bans listing each warn on its own."""

from __future__ import annotations

import asyncio
import re

from tests.support.moderation import (
    add_to_admin_chat,
    admin_press,
    admin_says,
    card,
    chat,
    confess,
    number_of,
    shown,
    wait_for,
)
from tests.support.threads import button, reply
from tests.support.world import World

# Admin 2 lists, admin 3 warns, admin 1 sets the rules: each admin is rate-limited
# like any member (a burst of 10 updates), so the test spreads its commands.
LISTER, WARNER = 2, 3


async def _warns_listed(community: World.Community) -> list[str]:
    listed = shown(await admin_says(community, LISTER, "/bans"))
    return [line for line in listed.splitlines() if "⚠️" in line]


async def test_warns_expire_and_the_limit_turns_into_a_timed_ban(
    community: World.Community,
) -> None:
    """Warns that expire, then two in force that ban for 2 hours.

    One test because each warn counts against the ones before it.
    """
    await add_to_admin_chat(community, [LISTER, WARNER])
    member = community.member(first_name="Warnee")
    await member.start()
    number = number_of(await confess(member, "a confession that earns warns"))
    pending = await card(community, number)

    # Rules are the community's: two warns within the expiry ban for 2 hours.
    shown_rules = shown(await admin_says(community, 1, "/settings warns"))
    assert "30d" in shown_rules and "the 3th warn" in shown_rules and "7d" in shown_rules
    bad = shown(await admin_says(community, 1, "/settings warn_limit 0"))
    assert bad.startswith("⚠️ warn_limit must be a number from 1 to 20")
    for rule, value in (("warn_limit", "2"), ("warn_ban", "2h"), ("warn_expiry", "2s")):
        assert shown(await admin_says(community, 1, f"/settings {rule} {value}")).startswith(
            "✅ Saved."
        )

    # A warn that expires before the next one never counts towards the ban.
    warned = shown(await admin_says(community, WARNER, f"/warn #{number} off-topic"))
    assert warned == f"⚠️ Warned confession #{number} — off-topic. They are told (not by whom)."
    notice = await wait_for(
        member.bot_messages,
        lambda ms: any("warned you" in shown(m) for m in ms),
        "the member was not told of the warn",
    )
    told = next(shown(m) for m in notice if "warned you" in shown(m))
    assert "Reason: off-topic" in told and "2 in that time mean a ban of 2h" in told
    listed = await _warns_listed(community)
    assert len(listed) == 1 and f"confession #{number}" in listed[0], listed
    # Polled slowly: an admin writing too fast is rate-limited like anyone.
    for _ in range(10):
        await asyncio.sleep(2)
        if not await _warns_listed(community):
            break
    assert not await _warns_listed(community), "the warn never expired"

    assert shown(await admin_says(community, 1, "/settings warn_expiry 1d")).startswith("✅")
    await admin_says(community, WARNER, f"/warn #{number} second")
    # One warn in force: not banned.
    await member.send("✍️ New confession")
    assert "Write your confession" in shown(await reply(member))
    await member.send("/cancel")

    # The card's ⚠️ Warn is the second warn in force: the member is banned for 2h.
    pressed = await admin_press(community, WARNER, pending, button(pending, "Warn"))
    assert pressed["answer"]["text"] == f"⚠️ Warned confession #{number}."
    again = await admin_press(community, 1, pending, button(pending, "Warn"))
    assert again["answer"]["text"] == f"confession #{number} was warned already."
    await wait_for(
        member.bot_messages,
        lambda ms: any("banned you until" in shown(m) for m in ms),
        "the ban that follows the limit was not told",
    )
    await member.send("✍️ New confession")
    assert "banned in this community" in shown(await reply(member))

    listed_all = shown(await admin_says(community, LISTER, "/bans"))
    ban_lines = [
        line for line in listed_all.splitlines() if line.startswith("•") and "⚠️" not in line
    ]
    assert len(ban_lines) == 1 and "2 warns" in ban_lines[0], listed_all
    assert re.search(r"until \d\d \w+ \d{4}", ban_lines[0])
    # Each warn its own entry, with its own id; nothing groups them by member.
    warn_lines = await _warns_listed(community)
    ids = [re.search(r"\bw(\d+)\b", line).group(1) for line in warn_lines]  # type: ignore[union-attr]
    assert len(warn_lines) == 2 and len(set(ids)) == 2, warn_lines
    assert shown(await admin_says(community, WARNER, f"/unwarn w{ids[0]}")) == (
        f"✅ Warn w{ids[0]} removed."
    )
    assert len(await _warns_listed(community)) == 1

    # The admin chat never shows who the member is.
    for message in await chat(community, community.admin_chat_id):
        assert str(member.user_id) not in str(message) and "Warnee" not in str(message)
