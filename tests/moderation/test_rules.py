"""Community rules set with /settings and enforced by the confessions service."""

from __future__ import annotations

import asyncio

from tests.support.moderation import admin_press, admin_says, card, confess, number_of, shown
from tests.support.threads import button
from tests.support.world import World
from tools.devstack.infra.config import InfraConfig
from tools.devstack.infra.postgres_sql import psql


async def _send_draft(member: object, text: str) -> dict[str, object]:
    """✍️ New confession → text → ✅ Send; returns the press result (with its answer)."""
    await member.send("✍️ New confession")  # type: ignore[attr-defined]
    await member.send(text)  # type: ignore[attr-defined]
    preview = await member.last()  # type: ignore[attr-defined]
    result = await member.press(preview["message_id"], button(preview, "Send"))  # type: ignore[attr-defined]
    return dict(result)


async def test_cooldown_and_daily_cap(community: World.Community) -> None:
    shown_rules = await admin_says(community, 1, "/settings")
    assert "cooldown: off" in shown(shown_rules) and "cap: off per day" in shown(shown_rules)
    assert "Saved" in shown(await admin_says(community, 1, "/settings cooldown 1h"))
    hasty = community.member()
    assert "waiting for review" in shown(await confess(hasty, "first"))
    refused = await confess(hasty, "second, too soon")
    assert "Please wait about 1h before your next confession." in shown(refused)
    assert "Nothing was sent." in shown(refused)

    await admin_says(community, 1, "/settings cooldown off")
    assert "cap: 2 per day" in shown(await admin_says(community, 1, "/settings cap 2"))
    prolific = community.member()
    for text in ("one", "two"):
        assert "waiting for review" in shown(await confess(prolific, text))
    refused = await confess(prolific, "three")
    assert "You have sent 2 confessions today, the daily limit here." in shown(refused)
    # Bad values get a clear error and change nothing.
    bad = await admin_says(community, 1, "/settings cap lots")
    assert shown(bad) == "⚠️ cap must be a whole number from 0 to 1000 (or off)"
    assert "not a duration" in shown(await admin_says(community, 1, "/settings cooldown soon"))
    assert "unknown setting" in shown(await admin_says(community, 1, "/settings colour red"))
    assert "cap: 2 per day" in shown(await admin_says(community, 1, "/settings"))


async def test_word_filter_flags_or_rejects_and_length_is_capped(
    community: World.Community,
) -> None:
    await admin_says(community, 1, "/settings words add pineapple, durian")
    member = community.member()
    number = number_of(await confess(member, "I put Pineapple on pizza"))
    assert "⚠️ Flagged: contains “pineapple”" in shown(await card(community, number))
    await admin_says(community, 1, "/settings filter reject")
    refused = await _send_draft(member, "durian is my secret snack")
    answer = refused["answer"]
    assert isinstance(answer, dict) and "“durian”" in answer["text"] and answer["show_alert"]
    # The draft stays: ✏️ Edit is still offered under the preview.
    assert "Edit" in str((await member.last())["reply_markup"])
    await admin_says(community, 1, "/settings maxlen 10")
    long = await _send_draft(community.member(), "much longer than ten characters")
    assert isinstance(long["answer"], dict)
    assert "allows at most 10" in long["answer"]["text"]


async def test_publishing_at_most_one_post_per_interval(
    community: World.Community, infra_config: InfraConfig
) -> None:
    saved = await admin_says(community, 1, "/settings publish 30m")
    assert "at most one post per 30 min" in shown(saved)
    member = community.member()
    numbers = [number_of(await confess(member, f"burst {i}")) for i in range(2)]
    for number in numbers:
        pending = await card(community, number)
        await admin_press(community, 1, pending, button(pending, "Approve"))
    # The first post leaves at once, the second is queued half an hour later.
    rows = await asyncio.to_thread(
        psql,
        infra_config,
        "SELECT round(extract(epoch FROM not_before - now()) / 60) FROM notifier.outbox "
        f"WHERE community_id = {community.id} AND idempotency_key LIKE 'publish:%' ORDER BY id",
    )
    delays = [float(x) for x in rows.split()]
    assert len(delays) == 2 and delays[0] <= 0 and 29 <= delays[1] <= 30, delays
