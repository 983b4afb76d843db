"""Issue 12 point 12 in the notifier: Erase and edits that name their target by key.

A card still waiting when its author erases themselves is never sent, and the
"[withdrawn]" edit of it is dropped (nothing to edit); a sent card is edited in
place, the worker filling in the message id it got. Messages to the member's
chat go with their dead letters.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from services.notifier.models import dead_letters
from services.notifier.models import outbox as outbox_table
from services.notifier.recipients import chat_key
from tests.support.outbox import rows, settled, text_call
from tests.support.world import World
from veil.core.db import Database
from veil.core.outbox import Outbox, OutgoingCall, Priority
from veil.core.sealing import Keyring


def _withdraw(community: World.Community, key: str, run: str) -> OutgoingCall:
    return OutgoingCall(
        community_id=community.id,
        method="editMessageText",
        chat_id=community.admin_chat_id,
        params={"text": "#1\n[withdrawn]"},
        idempotency_key=f"withdrawn:{run}:{key}",
        priority=Priority.INTERACTIVE,
        edit_of=key,
    )


async def test_a_waiting_card_is_never_sent_and_a_sent_one_is_edited_in_place(
    world: World, community: World.Community, outbox: Outbox, notifier_db: Database
) -> None:
    run = secrets.token_hex(4)
    waiting, sent = f"card:{run}:waiting", f"card:{run}:sent"
    later = datetime.now(UTC) + timedelta(hours=1)
    [sent_id] = await outbox.send(
        [text_call(community, community.admin_chat_id, "the author's secret", sent)]
    )
    [waiting_id] = await outbox.send(
        [text_call(community, community.admin_chat_id, "another secret", waiting, not_before=later)]
    )
    [card] = await settled(notifier_db, [sent_id])
    assert card.status == "sent" and card.sent_message_id

    await outbox.erase(community.id, [], [waiting, sent])
    edits = await outbox.send([_withdraw(community, waiting, run), _withdraw(community, sent, run)])
    dropped, edited = await settled(notifier_db, edits)
    assert (dropped.status, dropped.reason) == ("dropped", "nothing to edit")
    assert edited.status == "sent"
    cards, never = await rows(notifier_db, [sent_id, waiting_id])
    assert cards.sealed is None and never.sealed is None
    assert (never.status, never.reason) == ("collapsed", "erased")
    messages = await world.chat_messages(community.bot_id, community.admin_chat_id)
    texts = [m["text"] for m in messages]
    assert texts == ["#1\n[withdrawn]"]  # edited in place; the waiting card never went


async def test_everything_to_the_members_chat_goes(
    world: World,
    community: World.Community,
    outbox: Outbox,
    notifier_db: Database,
    seal_keys: Keyring,
) -> None:
    member = community.member()
    await member.start()
    run = secrets.token_hex(4)
    ids = []
    # A dead letter (400), then a 403 (its message dropped).
    for i, code in enumerate((400, 403)):
        await world.control(
            "POST",
            "/fail",
            {"method": "sendMessage", "error_code": code, "count": 1, "chat_id": member.user_id},
        )
        ids += await outbox.send(
            [text_call(community, member.user_id, f"notice {i}", f"erase:{run}:{i}")]
        )
        await settled(notifier_db, ids)

    async def left() -> tuple[int, int]:
        async with notifier_db.read_own() as conn:
            counts = []
            for table, column in (
                (outbox_table, outbox_table.c.chat_key),
                (dead_letters, dead_letters.c.chat_key),
            ):
                # Rows name the chat by its keyed hash only.
                key = chat_key(seal_keys, community.id, member.user_id)
                statement = select(func.count()).select_from(table).where(column == key)
                counts.append(int((await conn.execute(statement)).scalar_one()))
        return counts[0], counts[1]

    assert await left() == (2, 1)
    await outbox.erase(community.id, [member.user_id], [])
    assert await left() == (0, 0)
