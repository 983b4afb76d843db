"""The member side of issue 6 end to end: /me from counters, unreachable members,
and /deleteme leaving nothing of the member in either schema."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import grpc
import pytest

from tests.support.relays import relays_drained
from tests.support.services import Services
from tests.support.threads import (
    button,
    comment_row,
    open_thread,
    post_to_channel,
    press,
    publish,
    replica_caught_up,
    reply,
    until,
    write_comment,
)
from tests.support.world import PACE_SECONDS, World
from tools.devstack.infra.config import InfraConfig
from tools.devstack.infra.postgres_sql import psql
from veil.contracts.texts import WITHDRAWN_NOTE
from veil.v1 import common_pb2, confessions_pb2, social_pb2


def _stat(profile: dict[str, Any], label: str) -> int:
    line = next(line for line in profile["text"].splitlines() if line.startswith(label))
    return int(line.split(":")[1].split()[0])


async def test_profile_counts_as_things_happen(
    community: World.Community, infra_config: InfraConfig, services: Services
) -> None:
    member = community.member()
    await member.send("/me")
    empty = await reply(member)
    assert "Your profile" in empty["text"] and _stat(empty, "⭐ Impact points") == 0
    await publish(member, infra_config, "count me")
    other_author = community.member()
    elsewhere = await publish(other_author, infra_config, "somewhere else")
    await write_comment(member, await open_thread(member, elsewhere), "one")
    member_id = await services.member_id(community, member.user_id)
    thread = await services.thread(community, elsewhere)
    second = await services.comment(thread, member_id, "two")
    await replica_caught_up(infra_config)
    fan = community.member()
    view = await open_thread(fan, elsewhere)
    view = await press(fan, view, comment_row(view, 1)[0][1])  # 👍 on "one"
    view = await press(fan, view, comment_row(view, 2)[1][1])  # 👎 on "two"
    view = await press(fan, view, comment_row(view, 2)[1][1])  # 👎 taken back
    # The member's own reaction to their own comment counts nothing.
    await services.social.React(
        social_pb2.ReactRequest(
            community_id=community.id,
            comment_id=second.id,
            member_id=member_id,
            value=1,
            thread=thread,
        )
    )
    # Comments and reactions are counted by their follow-ups, which the social
    # service's relay sends on a moment later (services/social/follow_ups.py).
    await relays_drained(infra_config)
    await member.send("/me")
    profile = await reply(member)
    assert _stat(profile, "✍️ Confessions sent") == 1
    assert _stat(profile, "✅ Approved") == 0  # the moderation transition counts approvals
    assert _stat(profile, "💬 Comments written") == 2
    assert _stat(profile, "👍 Reactions received") == 1
    assert _stat(profile, "⭐ Impact points") == 2 * 2 + 1


async def test_a_member_who_blocked_the_bot_is_skipped_until_they_write_again(
    community: World.Community, infra_config: InfraConfig, services: Services
) -> None:
    member = community.member()
    await member.start()
    member_id = await services.member_id(community, member.user_id)

    def notice(key: str) -> confessions_pb2.NotifyMembersRequest:
        return confessions_pb2.NotifyMembersRequest(
            notices=[
                confessions_pb2.MemberNotice(
                    community_id=community.id,
                    member_id=member_id,
                    method="sendMessage",
                    params_json=json.dumps({"text": f"notice {key}"}),
                    idempotency_key=f"test:{key}",
                )
            ]
        )

    async def unreachable() -> bool:
        flag = await asyncio.to_thread(
            psql,
            infra_config,
            f"SELECT unreachable_since IS NOT NULL FROM confessions.members WHERE id = {member_id}",
        )
        return flag == "t"

    await community.world.control("POST", f"/bots/{community.bot_id}/users/{member.user_id}/block")
    first = await services.members.NotifyMembers(notice("a"))
    assert first.queued == 1
    # The worker's send gets 403 and tells the confessions service.
    try:
        await until(unreachable, "the member was never marked unreachable")
    except AssertionError as error:
        # What became of the notice says which side lost it.
        queue = await asyncio.to_thread(
            psql,
            infra_config,
            "SELECT status, reason, attempts, last_error FROM notifier.outbox "
            f"WHERE community_id = {community.id} ORDER BY id",
        )
        raise AssertionError(f"{error}; the community's outbox: {queue!r}") from None
    skipped = await services.members.NotifyMembers(notice("b"))
    assert skipped.queued == 0

    await community.world.control(
        "POST", f"/bots/{community.bot_id}/users/{member.user_id}/unblock"
    )
    await member.start()
    assert not await unreachable()
    again = await services.members.NotifyMembers(notice("c"))
    assert again.queued == 1

    async def delivered() -> bool:
        return any(m["text"] == "notice c" for m in await member.bot_messages())

    await until(delivered, "the notice after unblocking never arrived")
    assert not any(m["text"] in ("notice a", "notice b") for m in await member.bot_messages())


async def _rows(infra_config: InfraConfig) -> list[tuple[str, dict[str, Any]]]:
    """Every row of every table of the confessions, social and notifier schemas, as JSON."""
    tables = await asyncio.to_thread(
        psql,
        infra_config,
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_schema IN ('confessions', 'social', 'notifier') "
        "AND table_type = 'BASE TABLE'",
    )
    rows: list[tuple[str, dict[str, Any]]] = []
    for table in tables.splitlines():
        dump = await asyncio.to_thread(psql, infra_config, f"SELECT row_to_json(t) FROM {table} t")
        rows.extend((table, json.loads(line)) for line in dump.splitlines() if line)
    return rows


async def test_deleteme_leaves_nothing_of_the_member(
    world: World,
    community: World.Community,
    infra_config: InfraConfig,
    services: Services,
) -> None:
    """/deleteme after a member confessed, commented, reacted and reported.

    One test because the erasure is checked against all that the member left behind.
    """
    leaver = community.member(first_name="Leaver")
    published = await publish(leaver, infra_config, "my secret crush", channel_post=True)
    member_id = await services.member_id(community, leaver.user_id)
    pending = await services.confessions.SubmitConfession(
        confessions_pb2.SubmitConfessionRequest(
            actor=common_pb2.Actor(community_id=community.id, telegram_user_id=leaver.user_id),
            text="still waiting for review",
            idempotency_key=f"pending:{published}:{community.id}",
        )
    )
    assert pending.created

    # The leaver comments on a neighbour's thread (through the service: members
    # are rate limited in the suite), reacts and reports; the neighbour replies.
    neighbour = community.member()
    theirs = await publish(neighbour, infra_config, "neighbour's confession")
    their_thread = await services.thread(community, theirs)
    hot_take = await services.comment(their_thread, member_id, "my hot take")
    await services.comment(their_thread, member_id, "my lonely comment")
    await replica_caught_up(infra_config)
    answer = await write_comment(
        neighbour, await open_thread(neighbour, theirs), "I disagree", reply_to=1
    )
    assert "I disagree" in answer["text"]
    reply_id = int(next(d for label, d in comment_row(answer, 3) if label == "⚠️").split(":")[2])
    await services.social.React(
        social_pb2.ReactRequest(
            community_id=community.id,
            comment_id=reply_id,
            member_id=member_id,
            value=1,
            thread=their_thread,
        )
    )
    await services.social.ReportComment(
        social_pb2.ReportCommentRequest(
            comment_id=reply_id, member_id=member_id, thread=their_thread
        )
    )
    neighbour_id = await services.member_id(community, neighbour.user_id)
    await services.comment(await services.thread(community, published), neighbour_id, "nice one")
    assert hot_take.pseudonym

    # "Keep my data" changes nothing.
    await leaver.send("/deleteme")
    ask = await reply(leaver)
    assert "cannot be undone" in ask["text"]
    kept = await press(leaver, ask, button(ask, "Keep my data"))
    assert kept["text"] == "Nothing was erased."
    assert await services.member_id(community, leaver.user_id) == member_id

    # The pending card is in the admin chat before the erasure (one still queued
    # is never sent at all: tests/notifier/test_erase.py).
    async def card_shown() -> bool:
        cards = await world.chat_messages(community.bot_id, community.admin_chat_id)
        return any("still waiting for review" in c["text"] for c in cards)

    await until(card_shown, "the pending card never reached the admins", seconds=6 * PACE_SECONDS)

    await leaver.send("/deleteme")
    ask = await reply(leaver)
    erased = await press(leaver, ask, button(ask, "Erase everything"))
    assert erased["text"].startswith("🗑 Done.")

    # The channel post is replaced through the notifier (the community's default).
    async def post_replaced() -> bool:
        posts = await world.chat_messages(community.bot_id, community.channel_id)
        return [p["text"] for p in posts] == [f"#{published}\n[deleted]"]

    await until(post_replaced, "the channel post was never replaced", seconds=6 * PACE_SECONDS)
    post = (await world.chat_messages(community.bot_id, community.channel_id))[0]
    assert not (post.get("reply_markup") or {}).get("inline_keyboard")

    # The thread keeps its shape: the reply stays, quoting "[deleted]".
    await replica_caught_up(infra_config)
    thread = await open_thread(neighbour, theirs)
    assert "I disagree" in thread["text"] and "[deleted]" in thread["text"]
    assert "my hot take" not in thread["text"] and "lonely" not in thread["text"]
    # The leaver's 👍 stays, under their protected subject alone (it names nobody):
    # the count stays right, and joining again does not give them a second one.
    assert "👍 1" in thread["text"]
    await neighbour.start(f"c_{published}")
    assert (await reply(neighbour))["text"] == f"Confession #{published} is not available."

    # The pending confession's card is withdrawn (through the notifier).
    async def card_withdrawn() -> bool:
        cards = await world.chat_messages(community.bot_id, community.admin_chat_id)
        return any(
            c["text"] == f"🆕 #{pending.confession.number}\n\n[withdrawn]\n\n{WITHDRAWN_NOTE}"
            and not (c.get("reply_markup") or {}).get("inline_keyboard")
            for c in cards
        )

    await until(card_withdrawn, "the pending card was never withdrawn", seconds=6 * PACE_SECONDS)

    # Nothing of the member is left in any schema, the notifier's queue included.
    texts = ("my secret crush", "still waiting for review", "my hot take", "my lonely comment")
    for table, row in await _rows(infra_config):
        dumped = json.dumps(row, ensure_ascii=False)
        assert str(leaver.user_id) not in dumped, table
        assert not any(text in dumped for text in texts), (table, row)
        for column, value in row.items():
            assert not (column.endswith("member_id") and value == member_id), (table, row)
        assert not (table == "confessions.members" and row["id"] == member_id)
        assert not (table == "social.pacers" and f":{member_id}:" in row["key"])

    # Writing again starts a new member with nothing.
    await leaver.send("/me")
    again = await reply(leaver)
    assert _stat(again, "✍️ Confessions sent") == 0 and _stat(again, "⭐ Impact points") == 0
    assert await services.member_id(community, leaver.user_id) != member_id


async def test_deleteme_deletes_posts_when_the_community_says_so(
    world: World, community: World.Community, infra_config: InfraConfig
) -> None:
    await asyncio.to_thread(
        psql,
        infra_config,
        f"UPDATE confessions.communities SET erased_posts = 'delete' WHERE id = {community.id}",
    )
    leaver = community.member()
    await publish(leaver, infra_config, "gone without a trace", channel_post=True)
    assert len(await world.chat_messages(community.bot_id, community.channel_id)) == 1
    await leaver.send("/deleteme")
    ask = await reply(leaver)
    await press(leaver, ask, button(ask, "Erase everything"))

    async def post_deleted() -> bool:
        return not await world.chat_messages(community.bot_id, community.channel_id)

    await until(post_deleted, "the channel post was never deleted", seconds=6 * PACE_SECONDS)


async def test_a_post_that_lands_after_the_erasure_is_taken_down(
    world: World, community: World.Community, infra_config: InfraConfig, services: Services
) -> None:
    leaver = community.member()
    number = await publish(leaver, infra_config, "approved, then erased")
    await leaver.send("/deleteme")
    ask = await reply(leaver)
    await press(leaver, ask, button(ask, "Erase everything"))
    await replica_caught_up(infra_config)
    found = await services.confessions.GetConfession(
        confessions_pb2.GetConfessionRequest(community_id=community.id, number=number)
    )
    assert found.confession.status == confessions_pb2.CONFESSION_STATUS_DELETED
    # The channel post was already on its way: the worker sends it and reports it.
    post_id = await post_to_channel(community, number, "approved, then erased")
    reported = await services.confessions.RecordPublication(
        confessions_pb2.RecordPublicationRequest(
            community_id=community.id,
            confession_id=found.confession.id,
            channel_message_id=post_id,
        )
    )
    assert not reported.published

    async def taken_down() -> bool:
        messages = await world.chat_messages(community.bot_id, community.channel_id)
        return all(m["message_id"] != post_id for m in messages)

    await until(taken_down, "the late post of an erased confession stayed up")


async def test_a_batch_of_follow_ups_is_checked_whole_before_anything_counts(
    community: World.Community, services: Services
) -> None:
    member = community.member()
    await member.start()
    member_id = await services.member_id(community, member.user_id)
    actor = common_pb2.Actor(community_id=community.id, telegram_user_id=member.user_id)

    def written(key: str) -> confessions_pb2.NotifyMembersRequest:
        return confessions_pb2.NotifyMembersRequest(
            activity=confessions_pb2.RecordMemberActivityRequest(
                community_id=community.id, member_id=member_id, comments_written=1, event_key=key
            )
        )

    async def comments_written() -> int:
        profile = await services.members.GetProfile(confessions_pb2.GetProfileRequest(actor=actor))
        return int(profile.comments_written)

    no_method = confessions_pb2.NotifyMembersRequest(
        notices=[
            confessions_pb2.MemberNotice(
                community_id=community.id, member_id=member_id, idempotency_key="b:bad"
            )
        ]
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await services.members.NotifyMembersMany(
            confessions_pb2.NotifyMembersManyRequest(requests=[written("b:1"), no_method])
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert await comments_written() == 0
    # A follow-up sent twice (a relay's retried batch) counts once.
    await services.members.NotifyMembersMany(
        confessions_pb2.NotifyMembersManyRequest(
            requests=[written("b:1"), written("b:2"), written("b:1")]
        )
    )
    assert await comments_written() == 2
