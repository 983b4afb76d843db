"""The failure-table row "the read replica is down or lagging"."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import grpc

from tests.support.world import World, new_user_id
from tools.devstack.infra.config import InfraConfig
from tools.devstack.infra.postgres import start_replica, stop_replica
from tools.devstack.infra.postgres_sql import psql
from tools.devstack.stack import Stack
from veil.v1 import common_pb2, confessions_pb2, confessions_pb2_grpc, social_pb2, social_pb2_grpc


async def _until(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 20
    while not await asyncio.to_thread(predicate):
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.1)


async def test_member_sees_own_write_while_replica_lags(
    community: World.Community,
    channels: dict[str, grpc.aio.Channel],
    infra_config: InfraConfig,
) -> None:
    stub = confessions_pb2_grpc.ConfessionsServiceStub(channels["confessions"])
    actor = common_pb2.Actor(community_id=community.id, telegram_user_id=new_user_id())
    on_replica = f"SELECT count(*) FROM confessions.confessions WHERE community_id = {community.id}"
    # Replay paused: the replica lags behind the primary for as long as we like.
    psql(infra_config, "SELECT pg_wal_replay_pause()", replica=True)
    try:
        submitted = await stub.SubmitConfession(
            confessions_pb2.SubmitConfessionRequest(
                actor=actor, text="written while the replica lags", idempotency_key="lag-1"
            )
        )
        listing = await stub.ListMyConfessions(
            confessions_pb2.ListMyConfessionsRequest(actor=actor)
        )
        assert [c.id for c in listing.confessions] == [submitted.confession.id]
        assert psql(infra_config, on_replica, replica=True) == "0"
    finally:
        psql(infra_config, "SELECT pg_wal_replay_resume()", replica=True)
    await _until(
        lambda: psql(infra_config, on_replica, replica=True) == "1",
        "the replica never caught up after replay resumed",
    )


async def test_reads_fall_back_to_primary_when_replica_is_down(
    stack: Stack, channels: dict[str, grpc.aio.Channel], infra_config: InfraConfig
) -> None:
    stub = social_pb2_grpc.SocialServiceStub(channels["social"])
    community_id = 2 * 10**9 + new_user_id() % 10**6

    async def comment(key: str) -> None:
        await stub.AddComment(
            social_pb2.AddCommentRequest(
                community_id=community_id,
                confession_id=1,
                member_id=7,
                text=f"comment {key}",
                idempotency_key=key,
                thread=social_pb2.ThreadContext(
                    community_id=community_id, confession_id=1, confession_number=1
                ),
            )
        )

    async def listed() -> list[str]:
        page = await stub.ListComments(
            social_pb2.ListCommentsRequest(community_id=community_id, confession_id=1, limit=10)
        )
        return [c.text for c in page.comments]

    await comment("before")
    # Read once first, so the social service holds pooled replica connections:
    # those must be noticed dead, not used.
    replicated = f"SELECT count(*) FROM social.comments WHERE community_id = {community_id}"
    await _until(
        lambda: psql(infra_config, replicated, replica=True) == "1",
        "the comment never reached the replica",
    )
    assert await listed() == ["comment before"]
    stop_replica(infra_config)
    try:
        await comment("during")
        assert await listed() == ["comment before", "comment during"]
        assert await listed() == ["comment before", "comment during"]
        log = stack.log_path("social").read_text()
        assert "replica unreachable, reading from primary" in log
    finally:
        start_replica(infra_config)
    assert psql(infra_config, "SELECT pg_is_in_recovery()", replica=True) == "t"
