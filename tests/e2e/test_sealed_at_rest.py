"""Issue 15: a database dump, a backup or a Redis scan names nobody.

A full flow through the bot (members confess, are approved and rejected,
comment, reply, react, report, are warned, are banned, are notified, write to
the admins and are answered, one blocks the bot, one erases themselves), then
``pg_dumpall`` of the primary and of the replica and a scan of every Redis key
and value: none of the members' Telegram ids (in decimal, hexadecimal, as 8 raw
bytes either way round, or base64), first names or usernames, and not the bot
token.
"""

from __future__ import annotations

import asyncio
import base64
import re
import subprocess
from typing import Any

import pytest

from tests.support.moderation import admin_press, admin_says, card, confess, number_of, shown
from tests.support.threads import (
    button,
    comment_row,
    notices,
    open_thread,
    press,
    replica_caught_up,
    reply,
    report,
    until,
    write_comment,
)
from tests.support.world import Member, World
from tools.devstack.infra import config as infra
from tools.devstack.infra.postgres_sql import psql
from veil.core.redis import connect_redis_cluster

NAMES = ("Quillonia", "Brastovan", "Celvirra", "Dorminika", "Evanthor")


async def _erase(member: Member) -> None:
    await member.send("/deleteme")
    ask = await reply(member)
    erased = await press(member, ask, button(ask, "Erase everything"))
    assert erased["text"].startswith("🗑 Done.")


async def _published(community: World.Community, number: int, infra_config: object) -> None:
    async def posted() -> bool:
        status = await asyncio.to_thread(
            psql,
            infra_config,  # type: ignore[arg-type]
            "SELECT status FROM confessions.confessions "
            f"WHERE community_id = {community.id} AND number = {number}",
        )
        return status == "published"

    await until(posted, f"#{number} was never published", seconds=60)


async def _settled(infra_config: infra.InfraConfig) -> None:
    async def idle() -> bool:
        left = await asyncio.to_thread(
            psql,
            infra_config,
            "SELECT count(*) FROM notifier.outbox WHERE status IN ('queued', 'sending') "
            "AND not_before <= now()",
        )
        return left == "0"

    await until(idle, "the queue never drained", seconds=90)


def needles(user_id: int) -> set[str]:
    """Every way the dump or Redis could show a Telegram id."""
    raw = user_id.to_bytes(8, "big")
    return {
        f"{user_id:x}",
        raw.hex(),
        raw[::-1].hex(),
        base64.b64encode(str(user_id).encode()).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }


def leaks(text: str, members: list[Member], token: str) -> list[str]:
    """What in ``text`` names a member or the bot."""
    found = []
    for member in members:
        # Decimal, as a whole number (not a run of digits inside a hex string).
        if re.search(rf"(?<![0-9A-Za-z]){member.user_id}(?![0-9A-Za-z])", text):
            found.append(f"{member.first_name}'s id in decimal")
        found += [f"{member.first_name}'s id as {n}" for n in needles(member.user_id) if n in text]
        for word in (member.first_name, f"u{member.user_id}"):
            if word in text:
                found.append(word)
    secret = token.split(":", 1)[1]
    if secret in text:
        found.append("the bot token")
    return found


def _dumpall(infra_config: infra.InfraConfig, replica: bool) -> str:
    port = infra_config.pg_replica_port if replica else infra_config.pg_port
    proc = subprocess.run(
        [
            str(infra.PG_BIN / "pg_dumpall"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            infra.ADMIN_ROLE,
            "--no-role-passwords",
        ],
        capture_output=True,
        text=True,
        env={"PGPASSWORD": infra.ADMIN_ROLE, "PGCONNECT_TIMEOUT": "10"},
        timeout=120,
        check=True,
    )
    return proc.stdout


@pytest.mark.last
async def test_a_dump_of_primary_and_replica_and_a_redis_scan_name_nobody(
    world: World, community: World.Community, infra_config: infra.InfraConfig
) -> None:
    """A whole community's life, then a dump and a scan that must name nobody.

    One test because the dump is only worth searching after every kind of row exists.
    """
    a, b, c, d, e = (community.member(first_name=name) for name in NAMES)
    for member in (a, b, c, d, e):
        await member.start()

    # A's confession approved (and published), B's rejected, C's approved too.
    numbers = {}
    for member, text in ((a, "I never learned to swim"), (b, "spam spam"), (c, "I hum at night")):
        numbers[member.first_name] = number_of(await confess(member, text))
    for name, label in (("Quillonia", "Approve"), ("Brastovan", "Reject"), ("Celvirra", "Approve")):
        pending = await card(community, numbers[name])
        await admin_press(community, 1, pending, button(pending, label))
    await _published(community, numbers["Quillonia"], infra_config)
    await _published(community, numbers["Celvirra"], infra_config)
    await replica_caught_up(infra_config)

    # B comments on A's confession, C replies, D likes B's comment, E reports it.
    thread = await write_comment(b, await open_thread(b, numbers["Quillonia"]), "same here")
    # C reads the replica (only one's own writes are read on the primary).
    await replica_caught_up(infra_config)
    await write_comment(c, await open_thread(c, numbers["Quillonia"]), "me too", reply_to=1)
    shown_d = await open_thread(d, numbers["Quillonia"])
    await press(d, shown_d, next(data for label, data in comment_row(shown_d, 1) if "👍" in label))
    # ⚠️ asks for a reason first; the report is filed with the one picked.
    reported = await report(e, numbers["Quillonia"], 1, "Harassment")
    assert reported["answer"]["text"] == "Reported. Thank you."
    assert thread

    # A is notified of the comments (the notifier delivers it).
    async def notified() -> bool:
        return bool(await notices(a))

    await until(notified, "the author was never notified", seconds=60)

    # A is warned (and told); B writes to the admins, who answer (a conversation).
    warned = shown(await admin_says(community, 1, f"/warn #{numbers['Quillonia']} careful"))
    assert warned.startswith("⚠️ Warned"), warned

    async def told_of_warn() -> bool:
        return any("warned you" in shown(m) for m in await a.bot_messages())

    await until(told_of_warn, "the warned author was never told", seconds=60)
    await b.send("✉️ Write to the admins")
    await reply(b)
    await b.send("A question for the admins")
    assert shown(await reply(b)).startswith("✉️ Sent to the admins.")

    async def questions() -> list[dict[str, Any]]:
        messages = await community.world.chat_messages(community.bot_id, community.admin_chat_id)
        return [m for m in messages if "A question for the admins" in shown(m)]

    async def asked() -> bool:
        return bool(await questions())

    await until(asked, "the question never reached the admin chat", seconds=60)
    question = (await questions())[0]
    answered = await admin_says(community, 1, "Our answer", reply_to=question["message_id"])
    assert shown(answered).startswith("✅ Sent to Guest")

    async def got_answer() -> bool:
        return any("Our answer" in shown(m) for m in await b.bot_messages())

    await until(got_answer, "the admins' answer never reached the member", seconds=60)

    # C is banned (and told so); D blocks the bot and is then sent a notice.
    banned = await admin_says(community, 1, f"/ban #{numbers['Celvirra']} rude")
    assert shown(banned).startswith("🚫 Banned")
    await community.world.control("POST", f"/bots/{community.bot_id}/users/{d.user_id}/block")
    await write_comment(b, await open_thread(b, numbers["Quillonia"]), "D, look", reply_to=2)
    # E erases themselves.
    await _erase(e)
    await _settled(infra_config)
    await replica_caught_up(infra_config)

    members = [a, b, c, d, e]
    for replica in (False, True):
        dump = await asyncio.to_thread(_dumpall, infra_config, replica)
        assert "CREATE TABLE confessions.members" in dump
        found = leaks(dump, members, community.token)
        assert not found, ("replica" if replica else "primary", found)

    client = await connect_redis_cluster(infra_config.redis_nodes())
    try:
        seen = []
        async for key in client.scan_iter(count=1000):
            raw_kind = await client.type(key)
            kind = raw_kind.decode() if isinstance(raw_kind, bytes) else raw_kind
            if kind == "string":
                value: object = await client.get(key)
            elif kind == "hash":
                value = await client.hgetall(key)
            elif kind == "list":
                value = await client.lrange(key, 0, -1)
            elif kind == "set":
                value = await client.smembers(key)
            elif kind == "zset":
                value = await client.zrange(key, 0, -1, withscores=True)
            else:
                value = kind
            seen.append(f"{key!r} {value!r}")
    finally:
        await client.aclose()
    assert seen, "the flow left no Redis state at all"
    found = leaks("\n".join(seen), members, community.token)
    assert not found, found
