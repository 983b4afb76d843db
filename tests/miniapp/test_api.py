"""The Mini App's API through the real stack: queue, decisions, figures, bad requests.

Decisions go through the same exactly-once ModerateConfession as the card
buttons, and the card in the admin chat ends up showing the decision either
way. Every answer is scanned: no Telegram id and no member's name in any.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.support.miniapp import (
    Answer,
    assert_anonymous,
    call,
    channel_posts,
    confession_id,
    init_data,
    pending_confession,
    queued_to_channel,
    status_of,
)
from tests.support.moderation import admin_press, card_decided, current, shown, wait_for
from tests.support.services import Services
from tests.support.threads import button, open_thread, replica_caught_up, write_comment
from tests.support.world import World
from tools.devstack.infra.config import InfraConfig
from veil.core.sealing import Keyring
from veil.v1 import confessions_pb2


async def decide(community: World.Community, cid: int, body: object) -> Answer:
    """POST a decision as admin 1 ("Ann")."""
    return await call(community, f"confessions/{cid}/decision", await init_data(community, 1), body)


async def test_the_queue_lists_pending_confessions_oldest_first(
    world: World, community: World.Community, services: Services
) -> None:
    first, _ = await pending_confession(community, "the first one to wait")
    second, _ = await pending_confession(community, "the second one <b>to</b> wait")
    answer = await call(community, "queue", await init_data(community, 1))
    assert answer.status == 200, answer.raw
    assert answer.json["count"] == 2
    assert answer.json["community"] == "Test University"
    items = answer.json["items"]
    assert [item["number"] for item in items] == [first, second]
    assert items[1]["text"] == "the second one <b>to</b> wait"  # text as written, not HTML
    assert all(isinstance(item["age_seconds"], int) and item["age_seconds"] >= 0 for item in items)
    assert items[0]["age_seconds"] >= items[1]["age_seconds"]
    assert set(items[0]) == {"id", "number", "text", "media", "age_seconds", "flagged", "pii"}
    assert items[0]["pii"] is None
    assert "Could identify someone" in answer.json["reasons"]
    assert_anonymous(world, answer)


async def test_the_queue_marks_personal_information_as_the_card_does(
    world: World, community: World.Community
) -> None:
    """Rule flag (the default): the queue says what the doxxing guard left in."""
    number, card = await pending_confession(community, "my ex is on +44 7700 900128, ask him")
    assert "⚠️ contains a phone number" in shown(card)
    answer = await call(community, "queue", await init_data(community, 1))
    [item] = [i for i in answer.json["items"] if i["number"] == number]
    assert item["pii"] == "⚠️ contains a phone number"
    assert item["flagged"] is None
    assert_anonymous(world, answer)


async def test_approving_publishes_once_and_edits_the_card(
    world: World,
    community: World.Community,
    services: Services,
    infra_config: InfraConfig,
    seal_keys: Keyring,
) -> None:
    number, pending = await pending_confession(community, "approve me from the app")
    cid = await confession_id(services, community, number)
    answer = await decide(community, cid, {"action": "approve"})
    assert answer.status == 200, answer.raw
    assert answer.json == {
        "won": True,
        "number": number,
        "status": "approved",
        "outcome": "✅ Approved by Ann",
    }
    # The card in the admin chat says the same, and its buttons are gone.
    edited = await card_decided(community, pending, "✅ Approved by Ann")
    assert shown(edited).startswith(f"🆕 #{number}")
    assert not (edited.get("reply_markup") or {}).get("inline_keyboard")
    await wait_for(lambda: channel_posts(community, number), bool, "never published")
    # Approving again changes nothing: the first decision stands.
    again = await decide(community, cid, {"action": "reject", "reason": "too late"})
    assert again.status == 200 and again.json["won"] is False
    assert again.json["outcome"] == "Already handled: ✅ Approved by Ann"
    queue = await call(community, "queue", await init_data(community, 1))
    assert queue.json["count"] == 0 and queue.json["items"] == []
    assert await queued_to_channel(infra_config, community, seal_keys) == 1
    assert len(await channel_posts(community, number)) == 1
    assert_anonymous(world, answer, again, queue)


async def test_the_card_and_the_app_at_the_same_moment_publish_once(
    world: World,
    community: World.Community,
    services: Services,
    infra_config: InfraConfig,
    seal_keys: Keyring,
) -> None:
    number, pending = await pending_confession(community, "two admins at once")
    cid = await confession_id(services, community, number)
    pressed, app = await asyncio.gather(
        admin_press(community, 1, pending, button(pending, "Approve"), first_name="Bob"),
        decide(community, cid, {"action": "approve"}),
    )
    assert app.status == 200, app.raw
    # Exactly one of the two decided; the card shows the winner's name.
    winner = "Ann" if app.json["won"] else "Bob"
    await card_decided(community, pending, f"✅ Approved by {winner}")
    assert ("Already handled" in str(pressed.get("answer"))) == app.json["won"], pressed
    await wait_for(lambda: channel_posts(community, number), bool, "never published")
    assert await queued_to_channel(infra_config, community, seal_keys) == 1
    assert len(await channel_posts(community, number)) == 1


@pytest.mark.parametrize("reason", ["Could identify someone", "typed: mentions a phone number"])
async def test_rejecting_with_a_listed_or_typed_reason(
    world: World, community: World.Community, services: Services, reason: str
) -> None:
    number, pending = await pending_confession(community, "reject me with a reason")
    cid = await confession_id(services, community, number)
    answer = await decide(community, cid, {"action": "reject", "reason": reason})
    assert answer.status == 200, answer.raw
    assert answer.json["won"] and answer.json["status"] == "rejected"
    assert answer.json["outcome"] == f"❌ Rejected by Ann: {reason}"
    await card_decided(community, pending, f"❌ Rejected by Ann: {reason}")
    assert_anonymous(world, answer)


async def test_banning_the_author_rejects_and_bans(
    world: World, community: World.Community, services: Services
) -> None:
    number, pending = await pending_confession(community, "ban my author")
    cid = await confession_id(services, community, number)
    answer = await decide(community, cid, {"action": "ban"})
    assert answer.status == 200, answer.raw
    assert answer.json["outcome"] == "🚫 Rejected and author banned by Ann"
    bans = await services.members.ListBans(
        confessions_pb2.ListBansRequest(community_id=community.id)
    )
    assert len(bans.bans) == 1
    await card_decided(community, pending, "🚫 Rejected and author banned by Ann")
    assert_anonymous(world, answer)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"[1, 2]", 400),
        (b'{"action": "publish"}', 400),
        (b'{"action": null}', 400),
        (b'{"action": "approve", "reason": "why"}', 400),
        (b'{"action": "reject", "reason": 7}', 400),
        (b'{"action": "reject", "reason": "' + b"x" * 101 + b'"}', 400),
        (b'{"action": "reject", "reason": "' + b"x" * 5000 + b'"}', 413),
    ],
)
async def test_malformed_bodies_change_nothing(
    community: World.Community, services: Services, body: bytes, status: int
) -> None:
    number, pending = await pending_confession(community, "malformed bodies")
    cid = await confession_id(services, community, number)
    answer = await call(
        community, f"confessions/{cid}/decision", await init_data(community, 1), raw_body=body
    )
    assert answer.status == status, answer.raw
    assert answer.json["error"]
    assert await status_of(services, community, number) == confessions_pb2.CONFESSION_STATUS_PENDING
    assert button(
        await current(community, community.admin_chat_id, pending["message_id"]), "Approve"
    )


async def test_a_confession_of_another_community_is_not_found(
    world: World, community: World.Community, services: Services
) -> None:
    other = await world.create_community("Other College")
    number, _ = await pending_confession(other, "not yours")
    theirs = await confession_id(services, other, number)
    answer = await decide(community, theirs, {"action": "approve"})
    assert answer.status == 404, answer.raw
    assert await status_of(services, other, number) == confessions_pb2.CONFESSION_STATUS_PENDING
    missing = await decide(community, 9_999_999_999, {"action": "approve"})
    assert missing.status == 404


async def test_figures_count_what_happened(
    world: World,
    community: World.Community,
    services: Services,
    infra_config: InfraConfig,
) -> None:
    approved, _ = await pending_confession(community, "figures: approved")
    rejected, _ = await pending_confession(community, "figures: rejected")
    await pending_confession(community, "figures: still waiting")
    ids = [await confession_id(services, community, n) for n in (approved, rejected)]
    assert (await decide(community, ids[0], {"action": "approve"})).json["won"]
    assert (await decide(community, ids[1], {"action": "reject"})).json["won"]
    await wait_for(lambda: channel_posts(community, approved), bool, "never published")
    await wait_for(
        lambda: status_of(services, community, approved),
        lambda s: s == confessions_pb2.CONFESSION_STATUS_PUBLISHED,
        "never recorded as published",
    )
    await replica_caught_up(infra_config)
    commenter = community.member(first_name="Bob")
    await commenter.start()
    thread = await open_thread(commenter, approved)
    await write_comment(commenter, thread, "a comment for the figures")
    await replica_caught_up(infra_config)
    answer = await call(community, "stats", await init_data(community, 1))
    assert answer.status == 200, answer.raw
    figures = answer.json
    assert figures["confessions"] == 3 and figures["per_day"][-1]["confessions"] == 3
    assert len(figures["per_day"]) == figures["days"] == 14
    assert (figures["approved"], figures["rejected"], figures["pending"]) == (1, 1, 1)
    assert figures["approval_rate"] == 0.5
    assert figures["median_decision_seconds"] >= 0
    assert figures["confessing_members"] == 3 and figures["commenting_members"] == 1
    assert figures["most_commented"] == [{"number": approved, "comments": 1}]
    assert_anonymous(world, answer)
