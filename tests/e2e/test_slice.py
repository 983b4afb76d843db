"""The first vertical slice, end to end through real processes.

/start registers the member; "✍️ New confession" → text → preview with
Send / Edit / Cancel → stored as pending → "Received — confession #N …"; /my
lists the member's confessions.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tests.support.world import Member, World, buttons
from tools.devstack.infra.config import InfraConfig
from tools.devstack.infra.postgres_sql import psql


async def _write_and_preview(member: Member, text: str) -> dict[str, Any]:
    await member.send("✍️ New confession")
    assert "Write your confession" in (await member.last())["text"]
    await member.send(text)
    preview = await member.last()
    assert "Preview" in preview["text"]
    return preview


async def test_start_registers_member_and_shows_menu(community: World.Community) -> None:
    member = community.member()
    result = await member.start()
    assert result["status"] == 200
    welcome = await member.last()
    assert "Welcome to" in welcome["text"] and "Test University" in welcome["text"]
    keyboard = welcome["reply_markup"]["keyboard"]
    assert [b["text"] for row in keyboard for b in row] == [
        "✍️ New confession",
        "📜 My confessions",
        "❓ Help",
        "✉️ Write to the admins",
    ]
    await member.start()
    assert "Welcome back" in (await member.last())["text"]


async def test_help(community: World.Community) -> None:
    member = community.member()
    await member.send("/help")
    assert "How it works" in (await member.last())["text"]
    await member.send("❓ Help")
    assert "How it works" in (await member.last())["text"]


async def test_confession_submitted_and_listed(community: World.Community) -> None:
    member = community.member()
    await member.start()
    preview = await _write_and_preview(member, "I <3 the library & its cats")
    # Member text is escaped for parse_mode=HTML and shows literally.
    assert "I <3 the library & its cats" in preview["text"]
    assert "I &lt;3 the library &amp; its cats" in preview["html"]
    actions = buttons(preview)
    assert set(actions) == {"✅ Send", "✏️ Edit", "✖️ Cancel"}

    result = await member.press(preview["message_id"], actions["✅ Send"])
    assert result["status"] == 200
    received = next(
        m for m in await member.bot_messages() if m["message_id"] == preview["message_id"]
    )
    assert received["text"] == "Received — confession #1 is waiting for review."

    await member.send("/my")
    listing = (await member.last())["text"]
    assert "Your confessions (1)" in listing
    assert "#1 · ⏳ waiting for review" in listing
    assert "I <3 the library & its cats" in listing


async def test_edit_then_send_and_numbering(community: World.Community) -> None:
    member = community.member()
    first = await _write_and_preview(member, "first draft")
    await member.press(first["message_id"], buttons(first)["✏️ Edit"])
    assert "Send the new text" in (await member.last())["text"]
    await member.send("second draft")
    second = await member.last()
    assert "second draft" in second["text"]
    await member.press(second["message_id"], buttons(second)["✅ Send"])

    other = community.member(first_name="Bob")
    third = await _write_and_preview(other, "bob's confession")
    await other.press(third["message_id"], buttons(third)["✅ Send"])
    sent = next(m for m in await other.bot_messages() if m["message_id"] == third["message_id"])
    assert sent["text"] == "Received — confession #2 is waiting for review."
    await member.send("📜 My confessions")
    listing = (await member.last())["text"]
    assert "second draft" in listing and "first draft" not in listing
    assert "bob's confession" not in listing


async def test_cancel(community: World.Community) -> None:
    member = community.member()
    preview = await _write_and_preview(member, "never mind")
    await member.press(preview["message_id"], buttons(preview)["✖️ Cancel"])
    cancelled = next(
        m for m in await member.bot_messages() if m["message_id"] == preview["message_id"]
    )
    assert cancelled["text"] == "Cancelled. Nothing was sent."
    assert buttons(cancelled) == {}
    await member.send("/my")
    assert "not sent any confession" in (await member.last())["text"]


async def test_button_of_an_old_preview_does_not_act(community: World.Community) -> None:
    """Send under an old preview must not send the newer draft."""
    member = community.member()
    old = await _write_and_preview(member, "old draft")
    new = await _write_and_preview(member, "new draft")
    result = await member.press(old["message_id"], buttons(old)["✅ Send"])
    assert result["answer"]["text"] == "This draft is no longer active."
    await member.send("/my")
    assert "not sent any confession" in (await member.last())["text"]
    await member.press(new["message_id"], buttons(new)["✅ Send"])
    await member.send("/my")
    listing = (await member.last())["text"]
    assert "Your confessions (1)" in listing and "new draft" in listing


async def test_menu_buttons_work_while_writing(community: World.Community) -> None:
    member = community.member()
    await member.send("✍️ New confession")
    await member.send("📜 My confessions")
    assert "not sent any confession" in (await member.last())["text"]


async def test_double_send_stores_once(community: World.Community) -> None:
    """Two quick presses of Send (a double tap) store one confession."""
    member = community.member()
    preview = await _write_and_preview(member, "double tap")
    send = buttons(preview)["✅ Send"]
    first, second = await asyncio.gather(
        member.press(preview["message_id"], send), member.press(preview["message_id"], send)
    )
    assert first["status"] == 200 and second["status"] == 200
    await member.send("/my")
    assert "Your confessions (1)" in (await member.last())["text"]


async def test_row_on_primary_arrives_on_replica(
    community: World.Community, infra_config: InfraConfig
) -> None:
    member = community.member()
    preview = await _write_and_preview(member, "replicated confession")
    await member.press(preview["message_id"], buttons(preview)["✅ Send"])
    query = (
        "SELECT number, status, text FROM confessions.confessions "
        f"WHERE community_id = {community.id}"
    )
    assert psql(infra_config, query).strip() == "1|pending|replicated confession"
    deadline = time.monotonic() + 10
    while True:
        on_replica = psql(infra_config, query, replica=True).strip()
        if on_replica == "1|pending|replicated confession":
            break
        assert time.monotonic() < deadline, f"replica still shows {on_replica!r}"
        await asyncio.sleep(0.1)
    assert psql(infra_config, "SELECT pg_is_in_recovery()", replica=True).strip() == "t"
