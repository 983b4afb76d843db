"""The member behind an update is asked of the confessions service once, whatever asks.

The gateway's middleware gives handlers a lazy member lookup; the trace of
one update shows every gRPC call the gateway made for it.
"""

from __future__ import annotations

from typing import Any

from tests.observability.conftest import Observed
from tests.support.otlp import Receiver, Span, wait_for
from tests.support.threads import (
    button,
    comment_row,
    open_thread,
    publish,
    reply,
    write_comment,
)
from tests.support.world import World
from tools.devstack.infra.config import InfraConfig


async def _gateway_calls(
    receiver: Receiver,
    update: dict[str, Any],
    community_id: int,
    last_call: str = "editMessageText",
) -> list[str]:
    """The gRPC methods the gateway called for ``update`` (sorted: spans carry no order)."""
    root: Span = await wait_for(
        "the gateway's server span",
        lambda: next(
            (
                s
                for s in receiver.spans()
                if s.service == "veil-gateway"
                and s.kind == "server"
                and s.attributes.get("veil.update_id") == update["update_id"]
                and s.attributes.get("veil.community_id") == community_id
                and s.attributes.get("veil.outcome") != "duplicate"
            ),
            None,
        ),
    )

    def calls() -> list[Span]:
        return [
            s
            for s in receiver.trace(root.trace_id)
            if s.service == "veil-gateway" and s.kind == "client" and "rpc.method" in s.attributes
        ]

    # The page's edit (or message) is the update's last Bot API call: the calls
    # before it are in.
    await wait_for(
        f"the thread page's {last_call}",
        lambda: any(
            s.attributes.get("telegram.method") == last_call for s in receiver.trace(root.trace_id)
        ),
    )
    return sorted(s.attributes["rpc.method"] for s in calls())


async def _like_calls(
    observed: Observed, otlp_receiver: Receiver, infra_config: InfraConfig, *, posted: bool
) -> list[str]:
    """The gateway's calls for a 👍 on a comment of a thread the member has seen
    (with its channel post when ``posted``: only then is it kept on a card)."""
    community = observed.community
    member = community.member()
    await member.start()
    number = await publish(member, infra_config, "Asked once", channel_post=posted)
    thread = await write_comment(member, await open_thread(member, number), "A first comment")
    like = next(data for label, data in comment_row(thread, 1) if "👍" in label)
    update = await member.press(thread["message_id"], like)
    return await _gateway_calls(otlp_receiver, update, community.id)


async def test_a_press_on_a_thread_asks_for_the_member_once(
    observed: Observed, otlp_receiver: Receiver, infra_config: InfraConfig
) -> None:
    # Without a channel post the thread is on no card (veil/contracts/cards.py):
    # one RegisterMember brings the member, their standing and the thread; the
    # reaction's answer brings the re-rendered page: two calls in all.
    calls = await _like_calls(observed, otlp_receiver, infra_config, posted=False)
    assert calls == sorted(["RegisterMember", "React"])


async def test_a_press_on_a_published_thread_costs_one_call(
    observed: Observed, otlp_receiver: Receiver, infra_config: InfraConfig
) -> None:
    # The member's card rode with the update's claim, the thread's card came
    # with one GET: the reaction is the gateway's only call.
    calls = await _like_calls(observed, otlp_receiver, infra_config, posted=True)
    assert calls == ["React"]


async def test_a_comment_is_stored_and_its_page_shown_in_two_calls(
    observed: Observed, otlp_receiver: Receiver, infra_config: InfraConfig
) -> None:
    community = observed.community
    member = community.member()
    await member.start()
    number = await publish(member, infra_config, "Commented in two calls")
    thread = await open_thread(member, number)
    await member.press(thread["message_id"], button(thread, "➕ Comment"))

    update = await member.send("Landing on the last page")

    # AddComment answers with the page the comment landed on.
    calls = await _gateway_calls(otlp_receiver, update, community.id, "sendMessage")
    assert calls == sorted(["RegisterMember", "AddComment"])
    shown = await reply(member)
    assert "Landing on the last page" in shown["text"]


async def test_a_comment_on_a_published_thread_costs_one_call(
    world: World, otlp_receiver: Receiver, infra_config: InfraConfig
) -> None:
    # A community whose rules did not change within a tombstone's life (the
    # observed one's threshold was just set): their card may be kept.
    community = await world.create_community("Cards College")
    member = community.member()
    await member.start()
    number = await publish(member, infra_config, "Commented from the cards", channel_post=True)
    # A first comment finds no card of the community's rules: the service's
    # answer brings them, and they are kept on one.
    await write_comment(member, await open_thread(member, number), "The first one")
    thread = await open_thread(member, number)
    await member.press(thread["message_id"], button(thread, "➕ Comment"))

    update = await member.send("The second one")

    # The member, the thread and the rules came from their cards.
    calls = await _gateway_calls(otlp_receiver, update, community.id, "sendMessage")
    assert calls == ["AddComment"]
    assert "The second one" in (await reply(member))["text"]
