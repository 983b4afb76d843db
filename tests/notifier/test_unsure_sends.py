"""A card Telegram accepted but whose answer the worker never recorded is not sent twice.

The emulator makes the call and loses its answer (``after``): once with the
worker left to time out, once with the worker killed while it waits (the
window between Telegram accepting and the sent-marker's commit). Either way
the card is found above the admin chat's last recorded message id
(services/notifier/worker/reconcile.py) and recorded, not sent again.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import socket
from typing import Any

from sqlalchemy import select

from services.notifier.models import outbox as outbox_table
from services.notifier.recipients import chat_key
from tests.support.moderation import confess, number_of
from tests.support.outbox import bot_calls, wait_for
from tests.support.world import Member, World
from tools.devstack.stack import Stack
from veil.core.db import Database
from veil.core.sealing import Keyring


async def _cards(world: World, community: World.Community, number: int) -> list[dict[str, Any]]:
    """The bot's cards of confession ``number`` in the admin chat."""
    messages = await world.chat_messages(community.bot_id, community.admin_chat_id)
    return [
        m
        for m in messages
        if m["from_bot"] and str(m.get("text") or "").startswith(f"🆕 #{number}\n")
    ]


async def _card_row(db: Database, keys: Keyring, community: World.Community) -> Any:
    """The outbox row of the admin chat's card (the newest one), as stored now
    (None before the relay sent it on)."""
    async with db.read_own() as conn:
        return (
            await conn.execute(
                select(outbox_table)
                .where(
                    outbox_table.c.community_id == community.id,
                    # The admin chat, by its keyed hash (no chat id is stored).
                    outbox_table.c.chat_key
                    == chat_key(keys, community.id, community.admin_chat_id),
                    outbox_table.c.idempotency_key.like("card:%"),
                )
                .order_by(outbox_table.c.id.desc())
                .limit(1)
            )
        ).one_or_none()


async def _sent_card(db: Database, keys: Keyring, community: World.Community) -> Any:
    # The card reaches the notifier through the confessions service's relay.
    return await wait_for(
        lambda: _card_row(db, keys, community),
        lambda r: r is not None and r.status == "sent",
        within=60,
    )


async def _lose_next_card_answer(world: World, community: World.Community, hold: float) -> None:
    await world.control(
        "POST",
        "/fail",
        {
            "method": "sendMessage",
            "chat_id": community.admin_chat_id,
            "after": True,
            "hold_seconds": hold,
            "count": 1,
        },
    )


async def _one_card_recorded(
    world: World, db: Database, keys: Keyring, community: World.Community, number: int
) -> None:
    # In the chat first: its row is then the newest card row (the relay sent it on).
    await wait_for(lambda: _cards(world, community, number), bool, within=30)
    row = await _sent_card(db, keys, community)
    cards = await _cards(world, community, number)
    assert len(cards) == 1, cards  # 0 duplicate cards
    assert row.sent_message_id == cards[0]["message_id"]
    calls = [
        c
        for c in await bot_calls(world, community.bot_id)
        if c["params"].get("chat_id") in (community.admin_chat_id, str(community.admin_chat_id))
    ]
    sends = [c for c in calls if c["method"] == "sendMessage" and f"#{number}" in str(c["params"])]
    assert [c.get("answer_lost") for c in sends] == [True], sends  # sent once, never again
    probes = [c for c in calls if c["method"] == "editMessageReplyMarkup"]
    assert any("not modified" in str(c.get("description", "")) for c in probes), probes


async def _member_after_a_first_card(
    world: World, db: Database, keys: Keyring, title: str
) -> tuple[World.Community, Member]:
    """A community whose admin chat holds one recorded card, and its member."""
    community = await world.create_community(title)
    member = community.member()
    await member.start()
    # The first card gives the admin chat a recorded message id to look above.
    await confess(member, f"first {secrets.token_hex(3)}")
    await _sent_card(db, keys, community)
    return community, member


async def test_a_card_whose_answer_was_lost_is_found_not_sent_again(
    world: World, notifier_db: Database, seal_keys: Keyring
) -> None:
    community, member = await _member_after_a_first_card(
        world, notifier_db, seal_keys, "Lost answer"
    )
    await _lose_next_card_answer(world, community, hold=0)
    number = number_of(await confess(member, f"second {secrets.token_hex(3)}"))
    await _one_card_recorded(world, notifier_db, seal_keys, community, number)


async def test_a_worker_killed_mid_send_leaves_no_duplicate_card(
    world: World, stack: Stack, notifier_db: Database, seal_keys: Keyring
) -> None:
    community, member = await _member_after_a_first_card(
        world, notifier_db, seal_keys, "Killed mid-send"
    )
    # Telegram holds the answer longer than the worker's request timeout (2 s):
    # the worker is killed while it waits.
    await _lose_next_card_answer(world, community, hold=5)
    pid = int((stack.root / "run" / "notifier-worker.pid").read_text())
    try:
        number = number_of(await confess(member, f"second {secrets.token_hex(3)}"))
        await wait_for(lambda: _cards(world, community, number), bool, within=30, interval=0.02)
        stack.stop_process("notifier-worker", signal.SIGKILL)
        row = await _card_row(notifier_db, seal_keys, community)
        # The kill landed in the window: accepted by Telegram, still leased, unrecorded.
        assert (row.status, row.leased_by) == ("sending", f"{socket.gethostname()}:{pid}")
        assert row.unsure_after is not None
    finally:
        await asyncio.to_thread(stack.start_workers)  # the pod restarted
    await _one_card_recorded(world, notifier_db, seal_keys, community, number)
