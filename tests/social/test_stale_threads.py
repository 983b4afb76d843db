"""Threads that are not open, and comment actions under the wrong thread's number."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest

from tests.support.moderation import admin_press, card, confess, erase, number_of
from tests.support.services import Services
from tests.support.stale_press import stale_press
from tests.support.threads import (
    button,
    comment_row,
    commented_thread,
    open_thread,
    press,
    publish,
    replica_caught_up,
    reply,
    rows,
    write_comment,
)
from tests.support.world import World
from tools.devstack.infra.config import InfraConfig
from tools.devstack.infra.postgres_sql import psql
from veil.contracts.callbacks import CommentAction, CommentButton
from veil.v1 import social_pb2


def _count(infra_config: InfraConfig, table: str, comment_id: int) -> int:
    """Rows of ``social.<table>`` about one comment, on the primary."""
    return int(
        psql(infra_config, f"SELECT count(*) FROM social.{table} WHERE comment_id = {comment_id}")
    )


def _comment_id(thread: dict[str, Any], index: int) -> int:
    """The id of the ``index``-th comment shown (from its ⚠️ button)."""
    data = next(d for label, d in comment_row(thread, index) if label == "⚠️")
    return int(data.split(":")[2])


async def test_pending_rejected_unknown_and_withdrawn_threads_are_not_available(
    community: World.Community, infra_config: InfraConfig
) -> None:
    author = community.member()
    await author.start()
    pending = number_of(await confess(author, "not reviewed yet"))
    rejected = number_of(await confess(author, "will be rejected"))
    decision = await card(community, rejected)
    await admin_press(community, 1, decision, button(decision, "❌ Reject"))
    eraser = community.member()
    await eraser.start()
    withdrawn = await publish(eraser, infra_config, "published then erased")
    reader = community.member()
    stale = await open_thread(reader, withdrawn)
    assert "published then erased" in stale["text"]
    await erase(eraser)
    await replica_caught_up(infra_config)
    for number in (pending, rejected, withdrawn, 99_999):
        await reader.start(f"c_{number}")
        assert (await reply(reader))["text"] == f"Confession #{number} is not available."
    # A button of the thread message shown before the erasure says the same,
    # and the message no longer shows the withdrawn confession.
    pressed = await press(reader, stale, button(stale, "🔄"))
    assert pressed["answer"]["text"] == f"Confession #{withdrawn} is not available."
    assert pressed["text"] == f"Confession #{withdrawn} is not available."
    assert not rows(pressed)


async def test_no_reaction_or_report_on_a_withdrawn_confessions_comment(
    community: World.Community, infra_config: InfraConfig, services: Services
) -> None:
    author, number, fan, view = await commented_thread(
        community, infra_config, "I will erase myself", "a bystander's comment"
    )
    comment_id = _comment_id(view, 1)
    # What the gateway knew of the thread before the erasure.
    stale_thread = await services.thread(community, number)
    fan_id = await services.member_id(community, fan.user_id)
    await erase(author)
    # Whether a thread is open is read from the replica, like every thread view.
    await replica_caught_up(infra_config)

    pressed = await press(fan, view, comment_row(view, 1)[0][1])  # 👍
    assert pressed["answer"]["text"] == f"Confession #{number} is not available."
    # The social service refuses on its own, whatever the caller believes.
    for call in (
        services.social.React(
            social_pb2.ReactRequest(
                community_id=community.id,
                comment_id=comment_id,
                member_id=fan_id,
                value=1,
                thread=stale_thread,
            )
        ),
        services.social.ReportComment(
            social_pb2.ReportCommentRequest(
                comment_id=comment_id, member_id=fan_id, thread=stale_thread
            )
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    assert _count(infra_config, "reactions", comment_id) == 0
    assert _count(infra_config, "reports", comment_id) == 0


async def test_every_comment_action_refuses_a_comment_of_another_thread(
    community: World.Community, infra_config: InfraConfig, services: Services
) -> None:
    """Each comment action sent under another thread's context is refused.

    One test because all of them use the same two threads and comment.
    """
    author = community.member()
    await author.start()
    first = await publish(author, infra_config, "thread one")
    second = await publish(author, infra_config, "thread two")
    writer, other = community.member(), community.member()
    await write_comment(writer, await open_thread(writer, first), "belongs to one")
    await replica_caught_up(infra_config)
    comment_id = _comment_id(await open_thread(other, first), 1)
    view = await open_thread(other, second)

    # A forged report under thread two's number: not counted, not carded.
    forged = CommentAction(CommentButton.REPORT, comment_id, second, page=0, sort=0, value=1).pack()
    assert await stale_press(community, other.user_id, view, forged) == 200
    forged = CommentAction(CommentButton.UP, comment_id, second, page=0, sort=0, value=1).pack()
    assert await stale_press(community, other.user_id, view, forged) == 200
    assert _count(infra_config, "reports", comment_id) == 0
    assert _count(infra_config, "reactions", comment_id) == 0

    thread_two = await services.thread(community, second)
    writer_id = await services.member_id(community, writer.user_id)
    other_id = await services.member_id(community, other.user_id)
    refusals = [
        services.social.React(
            social_pb2.ReactRequest(
                community_id=community.id,
                comment_id=comment_id,
                member_id=other_id,
                value=1,
                thread=thread_two,
            )
        ),
        services.social.ReportComment(
            social_pb2.ReportCommentRequest(
                comment_id=comment_id, member_id=other_id, thread=thread_two
            )
        ),
        services.social.AddComment(
            social_pb2.AddCommentRequest(
                community_id=community.id,
                confession_id=thread_two.confession_id,
                member_id=other_id,
                parent_id=comment_id,
                text="a reply in the wrong thread",
                idempotency_key=f"wrong-thread:{comment_id}",
                thread=thread_two,
            )
        ),
    ]
    for call in refusals:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    # Even its writer cannot delete it under the wrong thread.
    deleted = await services.social.DeleteComment(
        social_pb2.DeleteCommentRequest(
            community_id=community.id, comment_id=comment_id, member_id=writer_id, thread=thread_two
        )
    )
    assert not deleted.deleted
    assert _count(infra_config, "reports", comment_id) == 0
    assert _count(infra_config, "reactions", comment_id) == 0
    status = await asyncio.to_thread(
        psql, infra_config, f"SELECT status FROM social.comments WHERE id = {comment_id}"
    )
    assert status == "visible"
    # Under its own thread the same reaction is stored: the thread made the difference.
    thread_one = await services.thread(community, first)
    await services.social.React(
        social_pb2.ReactRequest(
            community_id=community.id,
            comment_id=comment_id,
            member_id=other_id,
            value=1,
            thread=thread_one,
        )
    )
    assert _count(infra_config, "reactions", comment_id) == 1
