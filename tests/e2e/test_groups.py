"""Member flows stay in the private chat: in a group the bot only points there."""

from __future__ import annotations

import itertools
import time
from typing import Any

from tests.support.moderation import add_to_admin_chat, chat, confess, shown
from tests.support.threads import bot_api, comment_row, open_thread, publish, rows, write_comment
from tests.support.world import Member, World, new_user_id
from tools.devstack.infra.config import InfraConfig

_group_ids = itertools.count(-(3 * 10**12) - int(time.time()) % 100_000 * 1000)


async def _group(community: World.Community, members: list[Member]) -> int:
    """A group with the bot as an admin (so it hears every message said there)."""
    group_id = next(_group_ids)
    await community.world.control(
        "POST",
        "/chats",
        {
            "bot_id": community.bot_id,
            "chat_id": group_id,
            "type": "supergroup",
            "title": "Study group",
            "members": [m.user_id for m in members],
            "bot_is_admin": True,
        },
    )
    return group_id


async def _says(member: Member, chat_id: int, text: str) -> dict[str, Any]:
    """``member`` writes ``text`` in a group; returns the bot's answers to it there."""
    sent = await member.community.world.control(
        "POST",
        f"/bots/{member.community.bot_id}/users/{member.user_id}/messages",
        {"text": text, "chat_id": chat_id, "first_name": member.first_name},
    )
    assert sent["delivered"] and sent["status"] == 200, sent
    answers = [
        m
        for m in await chat(member.community, chat_id)
        # Cards reach the admin chat through the notifier whenever they do.
        if m["from_bot"] and m["message_id"] > sent["message_id"] and not shown(m).startswith("🆕")
    ]
    return {"sent": sent["message_id"], "answers": answers}


def _points_to_private(answer: dict[str, Any], link: str) -> None:
    assert shown(answer).startswith("🔒 Veil answers members in private"), shown(answer)
    assert [e.get("url") for e in answer["entities"] if e["type"] == "text_link"] == [link]
    assert answer["reply_markup"] is None


async def test_member_commands_in_a_group_only_point_to_the_private_chat(
    community: World.Community,
) -> None:
    author, other = community.member(), community.member(first_name="Bo")
    await author.start()
    await confess(author, "only mine to see")
    private_before = len(await author.bot_messages())
    group = await _group(community, [author, other])
    bot = f"https://t.me/veil_{community.bot_id}_bot"
    for member, command in [
        (author, "/my"),
        (author, "/me"),
        (author, "/deleteme"),
        (author, "✍️ New confession"),
        (other, "/confess"),
        (other, "/settings"),
        (other, "/start"),
        (other, "/help"),
    ]:
        said = await _says(member, group, command)
        assert len(said["answers"]) == 1, (command, said["answers"])
        _points_to_private(said["answers"][0], bot)
        assert said["answers"][0]["reply_to_message_id"] == said["sent"]
    thread = await _says(other, group, "/start c_7")
    _points_to_private(thread["answers"][0], f"{bot}?start=c_7")
    # No draft was started in the group: the text that follows is just chat.
    assert (await _says(author, group, "my group draft"))["answers"] == []
    everything = json_of(await chat(community, group))
    assert "only mine to see" not in everything and "Preview" not in everything
    # Nothing happened in the private chats either.
    assert len(await author.bot_messages()) == private_before


async def test_the_admin_chat_answers_admin_commands_only(community: World.Community) -> None:
    admin_id = new_user_id()
    await add_to_admin_chat(community, [admin_id])
    admin = community.member(admin_id, first_name="Ann")
    await admin.start()
    await confess(admin, "an admin's own confession")
    bot = f"https://t.me/veil_{community.bot_id}_bot"
    for command in ("/my", "/me", "/start", "/deleteme"):
        said = await _says(admin, community.admin_chat_id, command)
        assert len(said["answers"]) == 1, (command, said["answers"])
        _points_to_private(said["answers"][0], bot)
    help_ = (await _says(admin, community.admin_chat_id, "/help"))["answers"]
    assert shown(help_[0]).startswith("Admin commands") and "/ban" in shown(help_[0])
    cancel = (await _says(admin, community.admin_chat_id, "/cancel"))["answers"]
    assert shown(cancel[0]) == "Nothing to cancel." and cancel[0]["reply_markup"] is None
    answers = [
        m
        for m in await chat(community, community.admin_chat_id)
        if m["from_bot"] and not shown(m).startswith("🆕")  # its card is there, of course
    ]
    assert "an admin's own confession" not in json_of(answers)
    assert all(m["reply_markup"] is None for m in answers)


async def test_thread_buttons_in_a_group_open_the_private_chat(
    community: World.Community, infra_config: InfraConfig
) -> None:
    author, commenter = community.member(), community.member(first_name="Cy")
    await author.start()
    number = await publish(author, infra_config, "a thread that stays private")
    page = await write_comment(commenter, await open_thread(commenter, number), "my own comment")
    assert any(label == "🗑" for label, _ in comment_row(page, 1))
    # A thread message that somehow sits in a group, with the very same buttons.
    group = await _group(community, [commenter])
    posted = await bot_api(
        community,
        "sendMessage",
        {"chat_id": group, "text": f"#{number} thread", "reply_markup": page["reply_markup"]},
    )
    sent = next(m for m in await chat(community, group) if m["message_id"] == posted["message_id"])
    link = f"https://t.me/veil_{community.bot_id}_bot?start=c_{number}"
    for label in ("🔄", "1. 👍", "➕ Comment"):
        data = next(d for row in rows(sent) for text, d in row if text.startswith(label))
        pressed = await community.world.control(
            "POST",
            f"/bots/{community.bot_id}/press",
            {"user_id": commenter.user_id, "chat_id": group, "message_id": sent["message_id"]}
            | {"data": data},
        )
        assert pressed["answer"]["url"] == link, (label, pressed["answer"])
        now = next(m for m in await chat(community, group) if m["message_id"] == sent["message_id"])
        # Never re-rendered for the presser (with 🗑 under their own comment) in the group.
        assert (now["html"], now["reply_markup"]) == (sent["html"], sent["reply_markup"])
    # The 👍 press stored nothing: the private page still shows no like.
    fresh = await open_thread(commenter, number)
    assert comment_row(fresh, 1)[0][0] == "1. 👍 0"


def json_of(messages: list[dict[str, Any]]) -> str:
    """Everything the messages show, for "never appears" checks."""
    return "\n".join(shown(m) + str(m.get("html")) for m in messages)
