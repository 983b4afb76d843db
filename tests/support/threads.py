"""Helpers to drive comment threads through the emulator."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from services.social.domain import comments_markup
from tests.support.world import Member, World
from tools.devstack.infra.config import InfraConfig
from tools.devstack.infra.postgres_sql import psql


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


async def publish(
    member: Member, infra_config: InfraConfig, text: str, *, channel_post: bool = False
) -> int:
    """The member confesses through the bot; the confession is then marked published.

    Moderation is the confessions service's business; here it is skipped with
    one UPDATE so that threads can be tested on their own. With
    ``channel_post`` the bot also posts it to the channel (as publishing does:
    "#N", the text, a "💬 Comments" button) and the post's id is stored.
    """
    await member.send("✍️ New confession")
    await member.send(text)
    preview = await reply(member)
    send = next(data for row in rows(preview) for label, data in row if "Send" in label)
    await member.press(preview["message_id"], send)
    received = (await reply(member))["text"]
    number = int(received.split("#")[1].split()[0])
    post_id = await post_to_channel(member.community, number, text) if channel_post else "NULL"
    await asyncio.to_thread(
        psql,
        infra_config,
        f"UPDATE confessions.confessions SET status = 'published', channel_message_id = {post_id} "
        f"WHERE community_id = {member.community.id} AND number = {number}",
    )
    # Threads are opened from the replica: wait until it has the new status.
    await replica_caught_up(infra_config)
    return number


async def bot_api(community: World.Community, method: str, params: dict[str, Any]) -> Any:
    """Call the Bot API as the community's bot (what the publishing side does)."""
    url = f"{community.world.stack.emulator_url}/bot{community.token}/{method}"
    async with community.world.http.post(url, json=params) as response:
        payload = await response.json()
    assert payload["ok"], payload
    return payload["result"]


async def post_to_channel(community: World.Community, number: int, text: str) -> int:
    """Post confession ``number`` to the channel as the bot; returns the message id."""
    me = await bot_api(community, "getMe", {})
    posted = await bot_api(
        community,
        "sendMessage",
        {
            "chat_id": community.channel_id,
            "text": f"#{number}\n{text}",
            "reply_markup": comments_markup(me["username"], number, 0),
        },
    )
    return int(posted["message_id"])


# What the notifier delivers on its own pace (comment notices, a ban, the
# review of one's confession), as opposed to the bot's answers.
_NOTICE_STARTS = (
    "💬 ",
    "🚫 The admins of ",
    "⚠️ The admins of ",
    "✉️ The admins answered",
    "✖️ The admins closed",
    "✅ Your confession ",
    "❌ Your confession ",
)


def is_notice(message: dict[str, Any]) -> bool:
    """A comment notification the notifier delivered ("💬 New comment on …")."""
    return str(message.get("text", "")).startswith("💬 ")


def is_delivered_notice(message: dict[str, Any]) -> bool:
    """Any message the notifier delivered at any moment, not an answer."""
    return str(message.get("text", "")).startswith(_NOTICE_STARTS)


async def reply(member: Member) -> dict[str, Any]:
    """The bot's latest answer to the member, skipping notifications that the
    notifier delivers in between at any moment."""
    answers = [m for m in await member.bot_messages() if not is_delivered_notice(m)]
    assert answers, "the bot answered nothing"
    return answers[-1]


async def notices(member: Member) -> list[dict[str, Any]]:
    """Notifications the member received, oldest first."""
    return [m for m in await member.bot_messages() if is_notice(m)]


async def open_thread(member: Member, number: int) -> dict[str, Any]:
    """Follow the post's deep link; returns the thread message."""
    await member.start(f"c_{number}")
    return await reply(member)


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
    return await reply(member)


async def press(member: Member, message: dict[str, Any], data: str) -> dict[str, Any]:
    """Press a button of ``message``; returns the message as edited, and the answer."""
    result = await member.press(message["message_id"], data)
    edited = next(
        m for m in await member.bot_messages() if m["message_id"] == message["message_id"]
    )
    return {**edited, "answer": result.get("answer")}


async def admin_press(
    community: World.Community, message: dict[str, Any], data: str, user_id: int = 1
) -> dict[str, Any]:
    """An admin (user 1 by default) presses a button of a message in the admin chat."""
    return dict(
        await community.world.control(
            "POST",
            f"/bots/{community.bot_id}/users/{user_id}/press",
            {"message_id": message["message_id"], "data": data, "chat_id": community.admin_chat_id},
        )
    )


async def until(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 20) -> None:
    """Poll ``check`` until it holds."""
    deadline = time.monotonic() + seconds
    while not await check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.1)


async def commented_thread(
    community: World.Community, infra_config: InfraConfig, confession: str, comment: str
) -> tuple[Member, int, Member, dict[str, Any]]:
    """A published confession with one comment, opened by a new member once the
    replica has it: (its author, its number, that member, the thread they see)."""
    author = community.member()
    await author.start()
    number = await publish(author, infra_config, confession)
    commenter, reader = community.member(), community.member()
    await write_comment(commenter, await open_thread(commenter, number), comment)
    await replica_caught_up(infra_config)
    return author, number, reader, await open_thread(reader, number)


@contextlib.asynccontextmanager
async def replay_paused(infra_config: InfraConfig) -> AsyncIterator[None]:
    """The replica replays nothing inside: it lags the primary by all that is written."""
    await asyncio.to_thread(psql, infra_config, "SELECT pg_wal_replay_pause()", replica=True)
    try:
        yield
    finally:
        await asyncio.to_thread(psql, infra_config, "SELECT pg_wal_replay_resume()", replica=True)


async def replica_caught_up(infra_config: InfraConfig) -> None:
    """Wait until the replica has replayed everything the primary has written so far.

    Members other than the writer read threads from the replica; a test that
    has one member read right after another wrote waits for this first.
    """
    target = await asyncio.to_thread(psql, infra_config, "SELECT pg_current_wal_lsn()")

    async def replayed() -> bool:
        lag = await asyncio.to_thread(
            psql,
            infra_config,
            f"SELECT pg_wal_lsn_diff('{target}', pg_last_wal_replay_lsn())",
            replica=True,
        )
        return float(lag) <= 0

    await until(replayed, "the replica did not catch up")


async def hidden_comment(
    world: World, community: World.Community, infra_config: InfraConfig, text: str
) -> tuple[int, Member, Member, dict[str, Any]]:
    """A comment hidden by three reports of fresh accounts (the threshold set to their
    0.6): (confession number, author, writer, admin card)."""
    # Imported here: tests.support.moderation imports this module.
    from tests.support.moderation import set_report_threshold

    await set_report_threshold(community, "0.6")
    author = community.member()
    await author.start()
    number = await publish(author, infra_config, "moderate me")
    writer = community.member()
    await write_comment(writer, await open_thread(writer, number), text)
    await replica_caught_up(infra_config)
    for reporter in [community.member() for _ in range(3)]:
        await report(reporter, number, 1)

    async def card() -> dict[str, Any] | None:
        messages = await world.chat_messages(community.bot_id, community.admin_chat_id)
        return next(
            (m for m in messages if "was hidden after 3 reports" in m.get("text", "")), None
        )

    async def card_arrived() -> bool:
        return await card() is not None

    await until(card_arrived, "the admin card never arrived through the notifier")
    shown = await card()
    assert shown is not None and text in shown["text"]
    return number, author, writer, shown


async def report(member: Member, number: int, index: int, reason: str = "Spam") -> dict[str, Any]:
    """Open thread ``number``, press ⚠️ under its ``index``-th comment and pick ``reason``;
    returns the thread message as edited, with the press's answer."""
    view = await open_thread(member, number)
    ask = next(d for label, d in comment_row(view, index) if label == "⚠️")
    picker = await press(member, view, ask)
    assert picker["answer"]["text"] == "Why are you reporting this comment?", picker
    # Only the buttons became the reasons: the page reads as it did.
    assert picker["text"] == view["text"] and picker["reply_markup"] != view["reply_markup"]
    return await press(member, picker, button(picker, reason))


async def flagged_comment(community: World.Community, number: int, text: str) -> tuple[str, str]:
    """A new member comments ``text`` on open thread ``number``; the admins' 🚩 card
    of it (a rule flagged it) as shown, and the pseudonym it names."""
    writer = community.member()
    await write_comment(writer, await open_thread(writer, number), text)
    found: list[str] = []

    async def carded() -> bool:
        messages = await community.world.chat_messages(community.bot_id, community.admin_chat_id)
        found[:] = [
            str(m.get("text", ""))
            for m in messages
            if str(m.get("text", "")).startswith("🚩") and text in str(m.get("text", ""))
        ]
        return bool(found)

    await until(carded, "no flagged-comment card")
    # The card: "🚩 …\n⚠️ contains …\n\n<pseudonym>: <text>".
    return found[0], found[0].split("\n\n", 1)[1].split(": ", 1)[0]
