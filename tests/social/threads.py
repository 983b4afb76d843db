"""Helpers to drive comment threads through the emulator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from tests.e2e.world import Member, World
from tools.devstack import infra


def rows(message: dict[str, Any]) -> list[list[tuple[str, str]]]:
    """Inline keyboard of a message as rows of (text, callback data or url)."""
    markup = message.get("reply_markup") or {}
    return [
        [(b["text"], b.get("callback_data") or b.get("url", "")) for b in row]
        for row in markup.get("inline_keyboard", [])
    ]


def button(message: dict[str, Any], label: str) -> str:
    """Callback data of the first button whose text contains ``label``."""
    for row in rows(message):
        for text, data in row:
            if label in text:
                return data
    raise AssertionError(f"no button {label!r} in {rows(message)}")


def comment_row(message: dict[str, Any], index: int) -> list[tuple[str, str]]:
    """The buttons of the ``index``-th comment (1-based) on the shown page."""
    return next(row for row in rows(message) if row[0][0].startswith(f"{index}. "))


async def publish(member: Member, infra_config: infra.InfraConfig, text: str) -> int:
    """The member confesses through the bot; the confession is then marked published.

    Moderation is the confessions service's business; here it is skipped with
    one UPDATE so that threads can be tested on their own.
    """
    await member.send("✍️ New confession")
    await member.send(text)
    preview = await member.last()
    send = next(data for row in rows(preview) for label, data in row if "Send" in label)
    await member.press(preview["message_id"], send)
    received = (await member.last())["text"]
    number = int(received.split("#")[1].split()[0])
    await asyncio.to_thread(
        infra.psql,
        infra_config,
        "UPDATE confessions.confessions SET status = 'published' "
        f"WHERE community_id = {member.community.id} AND number = {number}",
    )
    # Threads are opened from the replica: wait until it has the new status.
    await replica_caught_up(infra_config)
    return number


async def open_thread(member: Member, number: int) -> dict[str, Any]:
    """Follow the post's deep link; returns the thread message."""
    await member.start(f"c_{number}")
    return await member.last()


async def write_comment(
    member: Member, thread: dict[str, Any], text: str, reply_to: int | None = None
) -> dict[str, Any]:
    """➕ Comment (or ↩️ on comment ``reply_to``, 1-based on the page), then the text."""
    if reply_to is None:
        data = button(thread, "➕ Comment")
    else:
        data = next(d for label, d in comment_row(thread, reply_to) if label == "↩️")
    await member.press(thread["message_id"], data)
    await member.send(text)
    return await member.last()


async def press(member: Member, message: dict[str, Any], data: str) -> dict[str, Any]:
    """Press a button of ``message``; returns the message as edited, and the answer."""
    result = await member.press(message["message_id"], data)
    edited = next(
        m for m in await member.bot_messages() if m["message_id"] == message["message_id"]
    )
    return {**edited, "answer": result.get("answer")}


async def until(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 20) -> None:
    """Poll ``check`` until it holds."""
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.1)


__all__ = ["World"]


async def replica_caught_up(infra_config: infra.InfraConfig) -> None:
    """Wait until the replica has replayed everything the primary has written so far.

    Members other than the writer read threads from the replica; a test that
    has one member read right after another wrote waits for this first.
    """
    target = await asyncio.to_thread(infra.psql, infra_config, "SELECT pg_current_wal_lsn()")

    async def replayed() -> bool:
        lag = await asyncio.to_thread(
            infra.psql,
            infra_config,
            f"SELECT pg_wal_lsn_diff('{target}', pg_last_wal_replay_lsn())",
            replica=True,
        )
        return float(lag) <= 0

    await until(replayed, "the replica did not catch up")
