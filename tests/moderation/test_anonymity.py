"""Nobody learns who wrote what: no trace of the author in the admin chat, the channel,
the Bot API calls made there, or any log line."""

from __future__ import annotations

import json

from tests.support.moderation import (
    admin_press,
    admin_says,
    card,
    chat,
    confess,
    number_of,
    shown,
    wait_for,
)
from tests.support.threads import button
from tests.support.world import World
from tools.devstack.infra.config import InfraConfig


async def test_the_author_appears_nowhere_but_in_their_own_chat(
    community: World.Community, infra_config: InfraConfig
) -> None:
    author = community.member(first_name="Quetzalia")
    await author.start()
    approved = number_of(await confess(author, "the approved one"))
    rejected = number_of(await confess(author, "the rejected one"))
    first = await card(community, approved)
    await admin_press(community, 1, first, button(first, "Approve"))
    await wait_for(
        lambda: chat(community, community.channel_id),
        lambda ms: any(shown(m).startswith(f"#{approved}") for m in ms),
        "no channel post",
    )
    second = await card(community, rejected)
    await admin_press(community, 1, second, button(second, "Reject with reason"))
    await admin_says(community, 1, f"/ban #{rejected} 1d")
    await wait_for(
        author.bot_messages,
        lambda ms: (
            any("banned you" in shown(m) for m in ms) and any("approved" in shown(m) for m in ms)
        ),
        "the author's notices",
    )

    needles = {str(author.user_id), f"u{author.user_id}", "Quetzalia"}
    seen = []
    for chat_id in (community.admin_chat_id, community.channel_id):
        for message in await chat(community, chat_id):
            seen.append(json.dumps(message, ensure_ascii=False))
    calls = (await community.world.control("GET", f"/bots/{community.bot_id}/calls"))["calls"]
    for call in calls:
        text = json.dumps(call, ensure_ascii=False)
        if str(call.get("params", {}).get("chat_id")) != str(author.user_id):
            seen.append(text)
    assert len(seen) > 10
    leaked = [s for s in seen if any(n in s for n in needles)]
    assert not leaked, leaked[:3]

    for name in ("gateway", "confessions", "social", "notifier", "notifier-worker"):
        text = (infra_config.root / "logs" / f"{name}.log").read_text(errors="replace")
        assert not [n for n in needles if n in text], name
