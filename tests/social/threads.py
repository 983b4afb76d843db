"""Helpers to drive comment threads through the emulator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from services.social.domain import comments_markup
from tests.e2e.world import Member, World
from tools.devstack import infra
from veil.v1 import (
    common_pb2,
    confessions_pb2,
    confessions_pb2_grpc,
    social_pb2,
    social_pb2_grpc,
)


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
    member: Member, infra_config: infra.InfraConfig, text: str, *, channel_post: bool = False
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
        infra.psql,
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
_NOTICE_STARTS = ("💬 ", "🚫 The admins of ", "✅ Your confession ", "❌ Your confession ")


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


class Services:
    """gRPC stubs of the running confessions and social services."""

    def __init__(self, channels: list[grpc.aio.Channel]) -> None:
        self.communities = confessions_pb2_grpc.CommunitiesServiceStub(channels[0])
        self.members = confessions_pb2_grpc.MembersServiceStub(channels[0])
        self.confessions = confessions_pb2_grpc.ConfessionsServiceStub(channels[0])
        self.social = social_pb2_grpc.SocialServiceStub(channels[1])

    async def member_id(self, community: World.Community, user_id: int) -> int:
        """The internal id of a Telegram user in the community (registered if new)."""
        registered = await self.members.RegisterMember(
            confessions_pb2.RegisterMemberRequest(
                actor=common_pb2.Actor(community_id=community.id, telegram_user_id=user_id)
            )
        )
        return int(registered.member.id)

    async def thread(self, community: World.Community, number: int) -> social_pb2.ThreadContext:
        """The thread context the gateway builds (from GetConfession and the registry)."""
        found = await self.confessions.GetConfession(
            confessions_pb2.GetConfessionRequest(community_id=community.id, number=number)
        )
        me = await bot_api(community, "getMe", {})
        return social_pb2.ThreadContext(
            community_id=community.id,
            confession_id=found.confession.id,
            confession_number=number,
            author_member_id=found.author_member_id,
            channel_chat_id=community.channel_id,
            channel_message_id=found.channel_message_id,
            admin_chat_id=community.admin_chat_id,
            bot_username=me["username"],
        )

    async def comment(
        self, thread: social_pb2.ThreadContext, member_id: int, text: str, parent_id: int = 0
    ) -> social_pb2.Comment:
        """A comment as the gateway stores it, without the member's three updates
        (members are rate limited in the suite)."""
        added: social_pb2.AddCommentResponse = await self.social.AddComment(
            social_pb2.AddCommentRequest(
                community_id=thread.community_id,
                confession_id=thread.confession_id,
                member_id=member_id,
                parent_id=parent_id,
                text=text,
                idempotency_key=f"test:{thread.confession_id}:{member_id}:{text}",
                thread=thread,
            )
        )
        comment: social_pb2.Comment = added.comment
        return comment


async def report(member: Member, number: int, index: int, reason: str = "Spam") -> dict[str, Any]:
    """Open thread ``number``, press ⚠️ under its ``index``-th comment and pick ``reason``;
    returns the thread message as edited, with the press's answer."""
    view = await open_thread(member, number)
    ask = next(d for label, d in comment_row(view, index) if label == "⚠️")
    picker = await press(member, view, ask)
    assert picker["answer"]["text"] == "Why are you reporting this comment?", picker
    return await press(member, picker, button(picker, reason))
