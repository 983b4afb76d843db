"""The gRPC services as real processes: health, reflection, contracts, shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tests.services.conftest import SERVICE_NAMES
from tests.support.moderation import card, card_decided, current, shown
from tests.support.threads import replica_caught_up
from tests.support.world import World, new_user_id
from tools.devstack.infra.config import InfraConfig
from tools.devstack.infra.postgres_sql import psql
from tools.devstack.ports import free_port
from tools.devstack.stack import REPO_ROOT, Stack
from veil.core.grpc_errors import member_refusal
from veil.v1 import (
    common_pb2,
    confessions_pb2,
    confessions_pb2_grpc,
    notifier_pb2,
    notifier_pb2_grpc,
    social_pb2,
    social_pb2_grpc,
)


@pytest.mark.parametrize("name", sorted(SERVICE_NAMES))
async def test_health_and_reflection(name: str, channels: dict[str, grpc.aio.Channel]) -> None:
    health = health_pb2_grpc.HealthStub(channels[name])
    for service in ("", *SERVICE_NAMES[name]):
        response = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert response.status == health_pb2.HealthCheckResponse.SERVING
    reflection = reflection_pb2_grpc.ServerReflectionStub(channels[name])
    responses = reflection.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    listed = [s.name async for r in responses for s in r.list_services_response.service]
    assert set(SERVICE_NAMES[name]) <= set(listed)
    assert "grpc.health.v1.Health" in listed


async def test_submit_is_idempotent_and_validated(
    community: World.Community, channels: dict[str, grpc.aio.Channel]
) -> None:
    stub = confessions_pb2_grpc.ConfessionsServiceStub(channels["confessions"])
    actor = common_pb2.Actor(community_id=community.id, telegram_user_id=new_user_id())
    request = confessions_pb2.SubmitConfessionRequest(
        actor=actor, text="  same key  ", idempotency_key="k-1"
    )
    first, second = await asyncio.gather(
        stub.SubmitConfession(request), stub.SubmitConfession(request)
    )
    assert {first.created, second.created} == {True, False}
    assert first.confession.id == second.confession.id
    assert first.confession.text == "same key"
    assert first.confession.status == confessions_pb2.CONFESSION_STATUS_PENDING
    with pytest.raises(grpc.aio.AioRpcError) as empty:
        await stub.SubmitConfession(
            confessions_pb2.SubmitConfessionRequest(actor=actor, text="   ", idempotency_key="k-2")
        )
    assert empty.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "empty" in (empty.value.details() or "")
    # A check written for developers: never shown to a member as it is.
    assert member_refusal(empty.value) is None
    with pytest.raises(grpc.aio.AioRpcError) as long:
        await stub.SubmitConfession(
            confessions_pb2.SubmitConfessionRequest(
                actor=actor, text="x" * 4001, idempotency_key="k-3"
            )
        )
    assert long.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    # The community's rule, written for the member who broke it.
    assert member_refusal(long.value) == (
        "Your confession is 4001 characters; this community allows at most 4000."
    )
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await stub.SubmitConfession(
            confessions_pb2.SubmitConfessionRequest(
                actor=common_pb2.Actor(community_id=10**12, telegram_user_id=1),
                text="hello",
                idempotency_key="k-4",
            )
        )
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    assert member_refusal(unknown.value) is None
    listing = await stub.ListMyConfessions(confessions_pb2.ListMyConfessionsRequest(actor=actor))
    assert [c.number for c in listing.confessions] == [first.confession.number]
    assert listing.total == 1


async def test_a_decision_away_from_the_card_edits_it_in_its_own_community_only(
    world: World,
    community: World.Community,
    channels: dict[str, grpc.aio.Channel],
    infra_config: InfraConfig,
) -> None:
    stub = confessions_pb2_grpc.ConfessionsServiceStub(channels["confessions"])
    actor = common_pb2.Actor(community_id=community.id, telegram_user_id=new_user_id())
    submitted = await stub.SubmitConfession(
        confessions_pb2.SubmitConfessionRequest(actor=actor, text="a card", idempotency_key="c")
    )
    number, confession = submitted.confession.number, submitted.confession.id
    sent = await card(community, number)

    async def decide(community_id: int, action: int, reason: str = "") -> bool:
        response = await stub.ModerateConfession(
            confessions_pb2.ModerateConfessionRequest(
                community_id=community_id,
                confession_id=confession,
                action=action,  # type: ignore[arg-type]
                moderator="Ann",
                reason=reason,
                edit_card=True,
            )
        )
        return bool(response.won)

    other = await world.create_community()
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await decide(other.id, confessions_pb2.MODERATION_ACTION_APPROVE)
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    assert await decide(community.id, confessions_pb2.MODERATION_ACTION_APPROVE)
    # The notifier edits the card it sent: the outcome in place of the buttons.
    edited = await card_decided(community, sent, "✅ Approved by Ann")
    assert shown(edited).startswith(f"🆕 #{number}")
    assert not (edited.get("reply_markup") or {}).get("inline_keyboard")
    # The loser queues the same edit under the same key: one edit, the winner's.
    assert not await decide(community.id, confessions_pb2.MODERATION_ACTION_REJECT, "late")
    queued = psql(
        infra_config,
        "SELECT count(*), min(edit_of) FROM notifier.outbox "
        f"WHERE idempotency_key = 'decided:{confession}'",
    )
    assert queued.strip() == f"1|card:{confession}"
    after = await current(community, community.admin_chat_id, sent["message_id"])
    assert shown(after) == shown(edited)


async def test_register_member_is_idempotent(
    community: World.Community, channels: dict[str, grpc.aio.Channel]
) -> None:
    stub = confessions_pb2_grpc.MembersServiceStub(channels["confessions"])
    actor = common_pb2.Actor(community_id=community.id, telegram_user_id=new_user_id())
    first = await stub.RegisterMember(confessions_pb2.RegisterMemberRequest(actor=actor))
    again = await stub.RegisterMember(confessions_pb2.RegisterMemberRequest(actor=actor))
    assert first.created and not again.created
    assert first.member.id == again.member.id
    # The Telegram id is never echoed back.
    assert str(actor.telegram_user_id) not in str(first)
    assert not first.HasField("thread")


async def test_register_member_brings_the_thread_asked_for(
    community: World.Community, channels: dict[str, grpc.aio.Channel]
) -> None:
    """A thread page resolves its member and its confession in one call."""
    stub = confessions_pb2_grpc.ConfessionsServiceStub(channels["confessions"])
    members = confessions_pb2_grpc.MembersServiceStub(channels["confessions"])
    author = common_pb2.Actor(community_id=community.id, telegram_user_id=new_user_id())
    sent = await stub.SubmitConfession(
        confessions_pb2.SubmitConfessionRequest(actor=author, text="a thread", idempotency_key="t")
    )
    author_id = await members.RegisterMember(confessions_pb2.RegisterMemberRequest(actor=author))
    reader = common_pb2.Actor(community_id=community.id, telegram_user_id=new_user_id())
    found = await members.RegisterMember(
        confessions_pb2.RegisterMemberRequest(actor=reader, thread_number=sent.confession.number)
    )
    assert found.created and found.member.id != author_id.member.id
    assert found.thread.confession.id == sent.confession.id
    assert found.thread.confession.status == confessions_pb2.CONFESSION_STATUS_PENDING
    assert found.thread.author_member_id == author_id.member.id
    assert found.thread.confession.text == "a thread"
    missing = await members.RegisterMember(
        confessions_pb2.RegisterMemberRequest(actor=reader, thread_number=10**9)
    )
    assert not missing.HasField("thread") and missing.member.id == found.member.id


async def test_listing_communities_hides_tokens_unless_asked(
    community: World.Community, channels: dict[str, grpc.aio.Channel]
) -> None:
    stub = confessions_pb2_grpc.CommunitiesServiceStub(channels["confessions"])
    public = await stub.ListCommunities(confessions_pb2.ListCommunitiesRequest())
    mine = next(c for c in public.communities if c.id == community.id)
    assert mine.bot_token == "" and mine.bot_id == community.bot_id
    private = await stub.ListCommunities(
        confessions_pb2.ListCommunitiesRequest(include_secrets=True)
    )
    assert next(c for c in private.communities if c.id == community.id).bot_token == community.token


async def test_comments_idempotent_with_thread_pseudonyms(
    channels: dict[str, grpc.aio.Channel],
) -> None:
    stub = social_pb2_grpc.SocialServiceStub(channels["social"])
    community_id = 10**9 + new_user_id() % 10**6

    async def comment(confession: int, member: int, key: str) -> social_pb2.AddCommentResponse:
        response: social_pb2.AddCommentResponse = await stub.AddComment(
            social_pb2.AddCommentRequest(
                community_id=community_id,
                confession_id=confession,
                member_id=member,
                text=f"comment {key}",
                idempotency_key=key,
                thread=social_pb2.ThreadContext(
                    community_id=community_id,
                    confession_id=confession,
                    confession_number=confession,
                ),
            )
        )
        return response

    a1 = await comment(1, 11, "a1")
    again = await comment(1, 11, "a1")
    a2 = await comment(1, 11, "a2")
    b1 = await comment(1, 12, "b1")
    other_thread = await comment(2, 11, "c1")
    assert a1.created and not again.created and again.comment.id == a1.comment.id
    assert a1.comment.pseudonym == a2.comment.pseudonym
    assert a1.comment.pseudonym != b1.comment.pseudonym
    assert a1.comment.pseudonym != other_thread.comment.pseudonym
    page = await stub.ListComments(
        social_pb2.ListCommentsRequest(
            community_id=community_id, confession_id=1, limit=2, consistent=True
        )
    )
    assert [c.text for c in page.comments] == ["comment a1", "comment a2"]
    assert page.total == 3


async def test_notifier_enqueue_is_idempotent(
    channels: dict[str, grpc.aio.Channel], infra_config: InfraConfig
) -> None:
    stub = notifier_pb2_grpc.NotifierServiceStub(channels["notifier"])
    community_id = 2 * 10**9 + new_user_id() % 10**6
    message = notifier_pb2.OutgoingMessage(
        community_id=community_id,
        method="sendMessage",
        chat_id=42,
        params_json='{"text": "hello"}',
        priority=notifier_pb2.PRIORITY_NOTIFICATION,
        idempotency_key=f"n-{community_id}",
    )
    first = await stub.Enqueue(notifier_pb2.EnqueueRequest(messages=[message]))
    second = await stub.Enqueue(notifier_pb2.EnqueueRequest(messages=[message, message]))
    assert first.accepted == 1 and second.accepted == 0
    assert list(second.ids) == [first.ids[0], first.ids[0]]
    # Queue stats read the replica (staleness is harmless there): wait for it.
    await replica_caught_up(infra_config)
    stats = await stub.GetQueueStats(notifier_pb2.GetQueueStatsRequest())
    mine = [s for s in stats.stats if s.community_id == community_id]
    assert [(s.priority, s.depth) for s in mine] == [(notifier_pb2.PRIORITY_NOTIFICATION, 1)]
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await stub.Enqueue(
            notifier_pb2.EnqueueRequest(
                messages=[
                    notifier_pb2.OutgoingMessage(
                        community_id=1,
                        method="sendMessage",
                        chat_id=1,
                        params_json="[1]",
                        idempotency_key="bad",
                    )
                ]
            )
        )
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_roles_cannot_cross_schemas(infra_config: InfraConfig) -> None:
    with pytest.raises(RuntimeError, match="permission denied"):
        psql(infra_config, "SELECT count(*) FROM confessions.members", role="veil_social")
    with pytest.raises(RuntimeError, match="permission denied"):
        psql(infra_config, "SELECT count(*) FROM notifier.outbox", role="veil_confessions")
    assert (
        psql(infra_config, "SELECT count(*) >= 0 FROM outbox", role="veil_notifier").strip() == "t"
    )


async def test_sigterm_drains_and_exits_cleanly(stack: Stack, infra_config: InfraConfig) -> None:
    """A service stops on SIGTERM: health turns NOT_SERVING, in-flight calls finish."""
    port = free_port()
    env = {
        **os.environ,
        **stack.service_env("confessions"),
        "VEIL_GRPC_PORT": str(port),
        # Its own /metrics port: the suite's confessions service has the other one.
        "VEIL_METRICS_PORT": str(free_port()),
        "PYTHONPATH": str(REPO_ROOT),
    }
    # The suite's own confessions service has the same application name: only
    # connections opened after this moment are the new service's.
    started = await asyncio.to_thread(psql, infra_config, "SELECT now()")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.confessions",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    locker: asyncio.Future[str] | None = None
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            for _ in range(100):
                try:
                    await health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                    break
                except grpc.aio.AioRpcError:
                    await asyncio.sleep(0.1)
            stub = confessions_pb2_grpc.CommunitiesServiceStub(channel)
            # A lock held elsewhere keeps the call waiting inside the service:
            # SIGTERM then arrives while it is provably in flight. The lock is
            # held until the test lets go (not for a fixed time a loaded machine
            # could outlast).
            locker = asyncio.ensure_future(
                asyncio.to_thread(
                    psql,
                    infra_config,
                    "SET application_name = 'veil-test-locker'; BEGIN; "
                    "LOCK TABLE confessions.communities IN ACCESS EXCLUSIVE MODE; "
                    "SELECT pg_sleep(60); COMMIT;",
                )
            )
            held = (
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE c.relname = 'communities' AND l.mode = 'AccessExclusiveLock' AND l.granted"
            )
            for _ in range(100):
                if await asyncio.to_thread(psql, infra_config, held) == "1":
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the lock was never taken")
            waiting = (
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                f"AND application_name = 'veil-confessions' AND backend_start >= '{started}'"
            )
            in_flight = asyncio.ensure_future(
                stub.ListCommunities(confessions_pb2.ListCommunitiesRequest(), timeout=15)
            )
            for _ in range(100):
                if await asyncio.to_thread(psql, infra_config, waiting) == "1":
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the call never reached the database")
            process.send_signal(signal.SIGTERM)
            # Draining: health turns NOT_SERVING, then new calls are refused,
            # while the call in flight still waits for the lock.
            for _ in range(100):
                try:
                    status = await health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                except grpc.aio.AioRpcError:
                    break
                if status.status == health_pb2.HealthCheckResponse.NOT_SERVING:
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the service kept serving after SIGTERM")
            assert not in_flight.done()
            await _release_locker(infra_config)
            response = await in_flight
            assert response is not None
            # The cancelled sleep ends the locker's transaction with an error.
            with contextlib.suppress(RuntimeError):
                await locker
        output, _ = await asyncio.wait_for(process.communicate(), 20)
        assert process.returncode == 0
        text = output.decode()
        assert '"message": "draining"' in text and '"message": "stopped"' in text
    finally:
        if process.returncode is None:
            process.kill()
        if locker is not None and not locker.done():
            # A failed check must not leave the table locked for the tests after it.
            await _release_locker(infra_config)
            with contextlib.suppress(RuntimeError):
                await locker


async def _release_locker(infra_config: InfraConfig) -> None:
    """End the test's lock on ``confessions.communities`` (its sleep cancelled)."""
    await asyncio.to_thread(
        psql,
        infra_config,
        "SELECT pg_cancel_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'veil-test-locker'",
    )


async def test_writes_answer_with_the_page_their_writer_sees_next(
    channels: dict[str, grpc.aio.Channel],
) -> None:
    """React, report, delete and AddComment with ``page_after`` bring the page
    ListComments gives after the write (read on the primary); without it, none."""
    stub = social_pb2_grpc.SocialServiceStub(channels["social"])
    community_id = 10**9 + new_user_id() % 10**6
    thread = social_pb2.ThreadContext(
        community_id=community_id,
        confession_id=7,
        confession_number=7,
        author_member_id=70,
    )
    oldest = social_pb2.PageAfter(limit=2, offset=0, sort=social_pb2.COMMENT_SORT_OLDEST)

    async def add(member: int, key: str, after: social_pb2.PageAfter | None = None) -> Any:
        return await stub.AddComment(
            social_pb2.AddCommentRequest(
                community_id=community_id,
                confession_id=7,
                member_id=member,
                text=f"comment {key}",
                idempotency_key=key,
                thread=thread,
                page_after=after,
            )
        )

    async def listed(viewer: int, offset: int = 0) -> social_pb2.ListCommentsResponse:
        page: social_pb2.ListCommentsResponse = await stub.ListComments(
            social_pb2.ListCommentsRequest(
                community_id=community_id,
                confession_id=7,
                limit=2,
                offset=offset,
                viewer_member_id=viewer,
                consistent=True,
            )
        )
        return page

    first = await add(71, "p1")
    assert not first.HasField("page")
    await add(72, "p2")
    # The third comment lands on the second page: `last` answers with it.
    third = await add(71, "p3", social_pb2.PageAfter(limit=2, last=True))
    assert [c.text for c in third.page.comments] == ["comment p3"]
    assert third.page == await listed(71, offset=2) and third.page.comments[0].mine

    reacted = await stub.React(
        social_pb2.ReactRequest(
            community_id=community_id,
            comment_id=first.comment.id,
            member_id=72,
            value=1,
            thread=thread,
            subject="s72",
            page_after=oldest,
        )
    )
    assert reacted.page.comments[0].likes == 1 and reacted.page.comments[0].my_reaction == 1
    assert reacted.page == await listed(72)

    reported = await stub.ReportComment(
        social_pb2.ReportCommentRequest(
            comment_id=first.comment.id,
            member_id=73,
            thread=thread,
            subject="s73",
            reason="spam",
            page_after=oldest,
        )
    )
    assert reported.counted and reported.page == await listed(73)

    deleted = await stub.DeleteComment(
        social_pb2.DeleteCommentRequest(
            community_id=community_id,
            comment_id=first.comment.id,
            member_id=71,
            thread=thread,
            page_after=oldest,
        )
    )
    assert deleted.deleted
    assert [c.text for c in deleted.page.comments] == ["comment p2", "comment p3"]
    assert deleted.page == await listed(71)
    assert deleted.page.total == 2
