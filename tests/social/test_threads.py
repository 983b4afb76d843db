"""Comment threads end to end: deep link, paging, sorting, comments, replies,
reactions, deleting, reports, read-your-writes under replica lag."""

from __future__ import annotations

import asyncio

import grpc

from services.gateway.views import texts
from tests.sealed import chat_key_sql
from tests.support.moderation import admin_says, set_report_threshold
from tests.support.threads import (
    admin_press,
    button,
    comment_row,
    commented_thread,
    hidden_comment,
    open_thread,
    press,
    publish,
    replay_paused,
    replica_caught_up,
    reply,
    report,
    rows,
    until,
    write_comment,
)
from tests.support.world import World
from tools.devstack.infra.config import InfraConfig
from tools.devstack.infra.postgres_sql import psql
from tools.devstack.stack import Stack
from veil.core.sealing import Keyring
from veil.v1 import social_pb2, social_pb2_grpc


async def test_deep_link_opens_an_empty_thread(
    community: World.Community, infra_config: InfraConfig
) -> None:
    author = community.member()
    await author.start()
    number = await publish(author, infra_config, "I <3 the night bus")
    reader = community.member()
    thread = await open_thread(reader, number)
    assert thread["text"].startswith(f"#{number}\nI <3 the night bus")
    assert "I &lt;3 the night bus" in thread["html"]
    assert "No comments yet" in thread["text"]
    assert "➕ Comment" in [label for row in rows(thread) for label, _ in row]


async def test_unpublished_or_unknown_confession_has_no_thread(
    community: World.Community,
) -> None:
    author = community.member()
    await author.start()
    await author.send("✍️ New confession")
    await author.send("still pending")
    preview = await author.last()
    await author.press(preview["message_id"], button(preview, "Send"))
    reader = community.member()
    for number in (1, 999):
        await reader.start(f"c_{number}")
        assert (await reader.last())["text"] == f"Confession #{number} is not available."


async def test_comments_page_and_sort(
    community: World.Community, infra_config: InfraConfig
) -> None:
    author = community.member()
    await author.start()
    number = await publish(author, infra_config, "pages")
    readers = [community.member() for _ in range(3)]
    # Each member keeps using the thread message they have (members are rate
    # limited in the suite: 10 updates in a burst).
    views = {reader.user_id: await open_thread(reader, number) for reader in readers}
    for i in range(7):
        member = readers[i % 3]
        thread = views[member.user_id] = await write_comment(
            member, views[member.user_id], f"comment {i}"
        )
    # After writing, the writer sees the last page, with their comment on it.
    assert "comment 6" in thread["text"] and "page 2/2" in thread["text"]
    await replica_caught_up(infra_config)
    first = await open_thread(readers[1], number)
    assert "💬 7 comments" in first["text"] and "page 1/2" in first["text"]
    shown = [f"comment {i}" for i in range(5)]
    assert all(text in first["text"] for text in shown)
    assert "comment 5" not in first["text"]
    assert "⬅️" not in [label for row in rows(first) for label, _ in row]
    second = await press(readers[1], first, button(first, "➡️"))
    assert "comment 5" in second["text"] and "comment 6" in second["text"]
    assert "comment 0" not in second["text"] and "page 2/2" in second["text"]
    back = await press(readers[1], second, button(second, "⬅️"))
    assert "comment 0" in back["text"]
    newest = await press(readers[1], back, button(back, "Newest"))
    assert newest["text"].index("comment 6") < newest["text"].index("comment 2")
    assert "comment 1" not in newest["text"]
    # Pseudonyms: the same member keeps one name in the thread.
    names = [line for line in first["text"].splitlines() if line[:2] in {"1.", "4."}]
    assert names[0].split(" · ")[0][3:] == names[1].split(" · ")[0][3:]


async def test_reactions_toggle_switch_and_sort_by_top(
    community: World.Community, infra_config: InfraConfig
) -> None:
    author = community.member()
    await author.start()
    number = await publish(author, infra_config, "react")
    writer, fan, critic = community.member(), community.member(), community.member()
    thread = await open_thread(writer, number)
    thread = await write_comment(writer, thread, "first")
    thread = await write_comment(writer, await open_thread(writer, number), "second")
    await replica_caught_up(infra_config)
    view = await open_thread(fan, number)
    up = comment_row(view, 2)[0][1]
    view = await press(fan, view, up)
    assert comment_row(view, 2)[0][0] == "2. ✅👍 1"
    # Pressing the lit 👍 again takes it back (toggle).
    view = await press(fan, view, comment_row(view, 2)[0][1])
    assert comment_row(view, 2)[0][0] == "2. 👍 0"
    # 👍 then 👎: the reaction switches, one per member.
    view = await press(fan, view, comment_row(view, 2)[0][1])
    view = await press(fan, view, comment_row(view, 2)[1][1])
    assert comment_row(view, 2)[0][0] == "2. 👍 0"
    assert comment_row(view, 2)[1][0] == "✅👎 1"
    await replica_caught_up(infra_config)
    other = await open_thread(critic, number)
    other = await press(critic, other, comment_row(other, 2)[0][1])
    other = await press(critic, other, comment_row(other, 1)[1][1])
    assert "👍 1  👎 1" in other["text"]  # "second": the critic's 👍, the fan's 👎
    top = await press(critic, other, button(other, "Top"))
    assert top["text"].index("second") < top["text"].index("first")


async def test_reply_quotes_parent_and_author_is_marked(
    community: World.Community, infra_config: InfraConfig
) -> None:
    author = community.member()
    await author.start()
    number = await publish(author, infra_config, "quote me")
    reader = community.member()
    thread = await write_comment(reader, await open_thread(reader, number), "why <b>though</b>?")
    await replica_caught_up(infra_config)
    thread = await write_comment(author, await open_thread(author, number), "because", reply_to=1)
    assert "✍️ Author" in thread["text"]
    assert "↩️" in thread["text"] and "why <b>though</b>?" in thread["text"]
    assert "<blockquote>↩️" in thread["html"] and "&lt;b&gt;though" in thread["html"]
    lines = thread["text"].splitlines()
    first_name = next(line for line in lines if line.startswith("1. ")).split(" · ")[0][3:]
    assert first_name not in {"Author", "✍️ Author"}


async def test_member_deletes_own_comment_only(
    community: World.Community, infra_config: InfraConfig, stack: Stack
) -> None:
    author = community.member()
    await author.start()
    number = await publish(author, infra_config, "delete")
    writer, other = community.member(), community.member()
    thread = await write_comment(writer, await open_thread(writer, number), "regret this")
    await replica_caught_up(infra_config)
    view = await open_thread(other, number)
    assert "🗑" not in [label for label, _ in comment_row(view, 1)]
    delete = next(d for label, d in comment_row(thread, 1) if label == "🗑")
    # Telegram only delivers presses of buttons a member was shown; the service
    # still refuses anyone's delete but the writer's.
    comment_id = int(delete.split(":")[2])
    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.ports.social}") as channel:
        refused = await social_pb2_grpc.SocialServiceStub(channel).DeleteComment(
            social_pb2.DeleteCommentRequest(
                community_id=community.id,
                comment_id=comment_id,
                member_id=10**15,
                thread=social_pb2.ThreadContext(
                    community_id=community.id, confession_id=1, confession_number=number
                ),
            )
        )
    assert not refused.deleted
    deleted = await press(writer, thread, delete)
    assert deleted["answer"]["text"] == "Comment deleted."
    assert "regret this" not in deleted["text"] and "No comments yet" in deleted["text"]


async def test_reports_count_once_and_hide_at_threshold(
    community: World.Community, infra_config: InfraConfig, seal_keys: Keyring
) -> None:
    author = community.member()
    await author.start()
    number = await publish(author, infra_config, "report")
    # Three fresh accounts weigh 0.6 together: the threshold here.
    await set_report_threshold(community, "0.6")
    troll = community.member()
    await write_comment(troll, await open_thread(troll, number), "something nasty")
    reporters = [community.member() for _ in range(3)]
    await replica_caught_up(infra_config)
    first = await report(reporters[0], number, 1)
    assert first["answer"]["text"] == "Reported. Thank you."
    again = await report(reporters[0], number, 1)
    assert again["answer"]["text"] == "You reported this already."
    assert "something nasty" in again["text"]  # 1 report: still visible
    for reporter in reporters[1:]:
        await report(reporter, number, 1)
    await replica_caught_up(infra_config)
    hidden = await open_thread(reporters[0], number)
    assert "something nasty" not in hidden["text"]
    queued = await asyncio.to_thread(
        psql,
        infra_config,
        "SELECT count(*) FROM notifier.outbox "
        f"WHERE community_id = {community.id} "
        f"AND chat_key = {chat_key_sql(seal_keys, community.id, community.admin_chat_id)} "
        "AND idempotency_key LIKE 'hidden:%'",
    )
    assert queued == "1"  # one card for the admins, whatever the reports after


async def test_admins_restore_a_hidden_comment_once(
    world: World, community: World.Community, infra_config: InfraConfig, stack: Stack
) -> None:
    number, author, writer, card = await hidden_comment(
        world, community, infra_config, "misunderstood joke"
    )
    assert str(writer.user_id) not in card["text"]
    restore = button(card, "Restore")
    assert "misunderstood joke" not in (await open_thread(author, number))["text"]
    pressed = await admin_press(community, card, restore)
    assert pressed["answer"]["text"] == "↩️ Restored"
    # The card lost its buttons; a second decision (another admin's press that
    # raced this one) finds the comment no longer hidden and changes nothing.
    comment_id = int(restore.split(":")[2])
    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.ports.social}") as channel:
        again = await social_pb2_grpc.SocialServiceStub(channel).ModerateComment(
            social_pb2.ModerateCommentRequest(
                comment_id=comment_id,
                action=social_pb2.COMMENT_MODERATION_DELETE,
                thread=social_pb2.ThreadContext(
                    community_id=community.id, confession_id=1, confession_number=number
                ),
            )
        )
    assert not again.done
    edited = next(
        m
        for m in await world.chat_messages(community.bot_id, community.admin_chat_id)
        if m["message_id"] == card["message_id"]
    )
    assert "↩️ Restored by" in edited["text"]
    await replica_caught_up(infra_config)
    assert "misunderstood joke" in (await open_thread(community.member(), number))["text"]


async def test_commenter_sees_own_comment_while_replica_lags(
    community: World.Community, infra_config: InfraConfig
) -> None:
    author = community.member()
    await author.start()
    number = await publish(author, infra_config, "lag")
    writer, other = community.member(), community.member()
    await replica_caught_up(infra_config)
    await open_thread(other, number)
    thread = await open_thread(writer, number)
    async with replay_paused(infra_config):
        thread = await write_comment(writer, thread, "fresh off the press")
        assert "fresh off the press" in thread["text"]
        assert "fresh off the press" in (await open_thread(writer, number))["text"]
        assert "fresh off the press" not in (await open_thread(other, number))["text"]

    async def other_sees_it() -> bool:
        return "fresh off the press" in (await open_thread(other, number))["text"]

    await until(other_sees_it, "the other member never saw the comment after replay resumed")


async def test_reactor_sees_own_reaction_in_other_views_while_replica_lags(
    community: World.Community, infra_config: InfraConfig
) -> None:
    _, _, fan, view = await commented_thread(
        community, infra_config, "lagging reactions", "react to me"
    )
    async with replay_paused(infra_config):
        view = await press(fan, view, comment_row(view, 1)[0][1])
        assert comment_row(view, 1)[0][0] == "1. ✅👍 1"
        # Another sort and 🔄 are read again: from the primary, for the fan.
        top = await press(fan, view, button(view, "Top"))
        assert comment_row(top, 1)[0][0] == "1. ✅👍 1"
        again = await press(fan, top, button(top, "🔄"))
        assert comment_row(again, 1)[0][0] == "1. ✅👍 1"


async def test_a_menu_button_pressed_while_commenting_is_no_comment(
    community: World.Community, infra_config: InfraConfig
) -> None:
    _, number, reader, thread = await commented_thread(
        community, infra_config, "menu while commenting", "the only comment"
    )
    await reader.press(thread["message_id"], button(thread, "➕ Comment"))
    await reader.send(texts.MY_CONFESSIONS)
    # The button does what it says …
    assert (await reply(reader))["text"] == texts.NO_CONFESSIONS
    # … and the member is still writing: their next text is the comment.
    await reader.send("now my real comment")
    after = await reply(reader)
    assert "now my real comment" in after["text"]
    assert texts.MY_CONFESSIONS not in after["text"]
    assert "💬 2 comments" in (await open_thread(reader, number))["text"]


async def test_oldest_toggle_and_refresh(
    community: World.Community, infra_config: InfraConfig
) -> None:
    author = community.member()
    number = await publish(author, infra_config, "toggles")
    writer, reader = community.member(), community.member()
    thread = await write_comment(writer, await open_thread(writer, number), "early bird")
    await write_comment(writer, thread, "late owl")
    await replica_caught_up(infra_config)
    view = await open_thread(reader, number)
    newest = await press(reader, view, button(view, "Newest"))
    assert newest["text"].index("late owl") < newest["text"].index("early bird")
    assert "• ⏬ Newest" in [label for row in rows(newest) for label, _ in row]
    oldest = await press(reader, newest, button(newest, "Oldest"))
    assert oldest["text"].index("early bird") < oldest["text"].index("late owl")
    assert "• ⏫ Oldest" in [label for row in rows(oldest) for label, _ in row]
    # 🔄 re-reads the page: a comment written meanwhile appears.
    await write_comment(writer, await open_thread(writer, number), "third wheel")
    await replica_caught_up(infra_config)
    refreshed = await press(reader, oldest, button(oldest, "🔄"))
    assert "third wheel" in refreshed["text"] and "💬 3 comments" in refreshed["text"]


async def test_admins_delete_a_hidden_comment(
    world: World, community: World.Community, infra_config: InfraConfig
) -> None:
    number, _, _, shown = await hidden_comment(world, community, infra_config, "pure spam")
    pressed = await admin_press(community, shown, button(shown, "🗑 Delete"))
    assert pressed["answer"]["text"] == "🗑 Deleted"
    edited = next(
        m
        for m in await world.chat_messages(community.bot_id, community.admin_chat_id)
        if m["message_id"] == shown["message_id"]
    )
    assert "🗑 Deleted by" in edited["text"]
    await replica_caught_up(infra_config)
    assert "pure spam" not in (await open_thread(community.member(), number))["text"]


async def test_admins_delete_a_hidden_comment_and_ban_its_writer(
    world: World, community: World.Community, infra_config: InfraConfig
) -> None:
    number, author, writer, shown = await hidden_comment(
        world, community, infra_config, "repeat offender"
    )
    await replica_caught_up(infra_config)
    before = await open_thread(community.member(), number)
    assert "repeat offender" not in before["text"]
    pressed = await admin_press(community, shown, button(shown, "Delete and ban"))
    assert pressed["answer"]["text"] == "🚫 Deleted, writer banned"
    await replica_caught_up(infra_config)
    thread = await open_thread(writer, number)
    assert "repeat offender" not in thread["text"]
    # The writer is banned in the community: no more comments from them.
    refused = await writer.press(thread["message_id"], button(thread, "➕ Comment"))
    assert "banned" in refused["answer"]["text"]
    # Nor react to or report anyone's comment.
    author_thread = await open_thread(author, number)
    await write_comment(author, author_thread, "the author is still here")
    await replica_caught_up(infra_config)
    view = await open_thread(writer, number)
    for label in ("👍", "👎", "⚠️"):
        data = next(d for shown_label, d in comment_row(view, 1) if label in shown_label)
        refused = await writer.press(view["message_id"], data)
        assert "cannot react or report" in refused["answer"]["text"]
    assert "👍 0  👎 0" in (await open_thread(author, number))["text"]
    # The admins see the ban by label, never by identity.
    bans = await admin_says(community, 1, "/bans")
    assert str(writer.user_id) not in bans["text"]
    assert f"comment on confession #{number}" in bans["text"]
