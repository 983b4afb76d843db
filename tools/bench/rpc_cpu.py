"""CPU-ms per call of the hot RPCs, measured on the service process itself.

Starts its own stack (Postgres primary + replica, Redis Cluster, the emulator,
the gRPC services) under ``.veil/rpc_cpu`` on ports of its own (the suite's
plus 300 and ``VEIL_TEST_PORT_OFFSET``: it runs beside a test run), makes
``--calls`` calls of each RPC and reads the serving process's CPU time (utime
+ stime from ``/proc/<pid>/stat``) before and after: CPU, not wall time, so
that a machine loaded by other work does not blur the figure.

    PYTHONPATH=. python -m tools.bench.rpc_cpu --calls 2000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import grpc

from tools.devstack.infra import lifecycle
from tools.devstack.infra.config import InfraConfig
from tools.devstack.ports import Ports
from tools.devstack.stack import REPO_ROOT, Stack
from veil.v1 import (
    common_pb2,
    confessions_pb2,
    confessions_pb2_grpc,
    social_pb2,
    social_pb2_grpc,
)

_TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")
# Calls in flight at once: a few, as a gateway under load sends them.
_CONCURRENCY = 8


def cpu_ms(pid: int) -> float:
    """utime + stime of a process, in milliseconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * _TICK_MS


async def measure(pid: int, calls: int, call: Callable[[int], Awaitable[object]]) -> float:
    """CPU-ms of process ``pid`` per call of ``call(i)`` (``calls`` of them)."""

    async def run(count: int) -> None:
        queue = iter(range(count))

        async def worker() -> None:
            for i in queue:
                await call(i)

        await asyncio.gather(*(worker() for _ in range(_CONCURRENCY)))

    # Warm-up at the same concurrency: caches, pool connections, prepared statements.
    await run(max(200, calls // 10))
    before = cpu_ms(pid)
    await run(calls)
    return (cpu_ms(pid) - before) / calls


@dataclass(frozen=True)
class _Stubs:
    """The clients of the two measured services."""

    communities: confessions_pb2_grpc.CommunitiesServiceStub
    members: confessions_pb2_grpc.MembersServiceStub
    confessions: confessions_pb2_grpc.ConfessionsServiceStub
    social: social_pb2_grpc.SocialServiceStub


@dataclass(frozen=True)
class _Seed:
    """The community, its published thread, its members and comments the calls use."""

    bot_id: int
    cid: int
    author: common_pb2.Actor
    number: int
    thread: social_pb2.ThreadContext
    users: list[int]
    ids: list[int]
    comment_ids: list[int]


async def _run(stack: Stack, calls: int) -> None:
    """Seed the stack, then print the CPU-ms per call of each measured RPC."""
    conf = grpc.aio.insecure_channel(f"127.0.0.1:{stack.ports.confessions}")
    soc = grpc.aio.insecure_channel(f"127.0.0.1:{stack.ports.social}")
    stubs = _Stubs(
        communities=confessions_pb2_grpc.CommunitiesServiceStub(conf),
        members=confessions_pb2_grpc.MembersServiceStub(conf),
        confessions=confessions_pb2_grpc.ConfessionsServiceStub(conf),
        social=social_pb2_grpc.SocialServiceStub(soc),
    )
    seed = await _seed(stubs)
    pids = {
        name: int((stack.root / "run" / f"{name}.pid").read_text())
        for name in ("confessions", "social")
    }
    for label, service, call in _cases(stubs, seed):
        per_call = await measure(pids[service], calls, call)
        print(f"{label:28} {service:12} {per_call:6.3f} CPU-ms per call", flush=True)
    await conf.close()
    await soc.close()


async def _seed(stubs: _Stubs) -> _Seed:
    """A community with one published confession, 40 members and 12 comments."""
    bot_id = 8_000_000_000 + int(time.time()) % 1_000_000
    community = await stubs.communities.UpsertCommunity(
        confessions_pb2.UpsertCommunityRequest(
            bot_token=f"{bot_id}:{secrets.token_urlsafe(27)}",
            bot_username="cpu_bot",
            channel_chat_id=-(10**12) - bot_id,
            admin_chat_id=-(2 * 10**12) - bot_id,
            title="CPU",
        )
    )
    cid = community.id
    author = common_pb2.Actor(community_id=cid, telegram_user_id=5_000_001)
    sent = await stubs.confessions.SubmitConfession(
        confessions_pb2.SubmitConfessionRequest(actor=author, text="measured", idempotency_key="k1")
    )
    await stubs.confessions.ModerateConfession(
        confessions_pb2.ModerateConfessionRequest(
            community_id=cid,
            confession_id=sent.confession.id,
            action=confessions_pb2.MODERATION_ACTION_APPROVE,
            moderator="A",
        )
    )
    found = await stubs.confessions.GetConfession(
        confessions_pb2.GetConfessionRequest(community_id=cid, number=sent.confession.number)
    )
    thread = social_pb2.ThreadContext(
        community_id=cid,
        confession_id=found.confession.id,
        confession_number=found.confession.number,
        author_member_id=found.author_member_id,
        channel_chat_id=community.channel_chat_id,
        channel_message_id=found.channel_message_id,
        admin_chat_id=community.admin_chat_id,
        bot_username="cpu_bot",
    )
    users = [5_000_100 + i for i in range(40)]
    ids, comment_ids = await _members_and_comments(stubs, thread, users)
    return _Seed(bot_id, cid, author, found.confession.number, thread, users, ids, comment_ids)


async def _members_and_comments(
    stubs: _Stubs, thread: social_pb2.ThreadContext, users: list[int]
) -> tuple[list[int], list[int]]:
    """Register ``users``; the first 12 comment on ``thread``. Returns (member ids, comment ids)."""
    cid = thread.community_id
    ids = []
    for user in users:
        registered = await stubs.members.RegisterMember(
            confessions_pb2.RegisterMemberRequest(
                actor=common_pb2.Actor(community_id=cid, telegram_user_id=user)
            )
        )
        ids.append(registered.member.id)
    comment_ids = []
    for n, member_id in enumerate(ids[:12]):
        added = await stubs.social.AddComment(
            social_pb2.AddCommentRequest(
                community_id=cid,
                confession_id=thread.confession_id,
                member_id=member_id,
                text=f"comment {n}",
                idempotency_key=f"c{n}",
                thread=thread,
            )
        )
        comment_ids.append(added.comment.id)
    return ids, comment_ids


def _cases(stubs: _Stubs, seed: _Seed) -> list[tuple[str, str, Callable[[int], Awaitable[object]]]]:
    """The measured calls: (label, serving process, call of the i-th request).

    One function: it is a table, one entry per RPC, read down the list.
    """
    members, confessions, social = stubs.members, stubs.confessions, stubs.social
    cid, users, ids, thread = seed.cid, seed.users, seed.ids, seed.thread

    def actor(i: int) -> common_pb2.Actor:
        return common_pb2.Actor(community_id=cid, telegram_user_id=users[i % len(users)])

    return [
        (
            "RegisterMember (existing)",
            "confessions",
            lambda i: members.RegisterMember(confessions_pb2.RegisterMemberRequest(actor=actor(i))),
        ),
        (
            "RegisterMember (thread)",
            "confessions",
            lambda i: members.RegisterMember(
                confessions_pb2.RegisterMemberRequest(actor=actor(i), thread_number=seed.number)
            ),
        ),
        (
            "GetProfile",
            "confessions",
            lambda i: members.GetProfile(confessions_pb2.GetProfileRequest(actor=actor(i))),
        ),
        (
            "ListMyConfessions",
            "confessions",
            lambda i: confessions.ListMyConfessions(
                confessions_pb2.ListMyConfessionsRequest(
                    actor=seed.author, page=common_pb2.PageRequest(limit=5)
                )
            ),
        ),
        (
            "RecordMemberActivity",
            "confessions",
            lambda i: members.RecordMemberActivity(
                confessions_pb2.RecordMemberActivityRequest(
                    community_id=cid,
                    member_id=ids[i % len(ids)],
                    reactions_received=1,
                    event_key=f"bench:{seed.bot_id}:{i}",
                )
            ),
        ),
        (
            "ListComments",
            "social",
            lambda i: social.ListComments(
                social_pb2.ListCommentsRequest(
                    community_id=cid,
                    confession_id=thread.confession_id,
                    limit=5,
                    offset=5 * (i % 2),
                    viewer_member_id=ids[i % len(ids)],
                )
            ),
        ),
        (
            "React",
            "social",
            lambda i: social.React(
                social_pb2.ReactRequest(
                    community_id=cid,
                    comment_id=seed.comment_ids[i % len(seed.comment_ids)],
                    member_id=ids[i % len(ids)],
                    value=1 if i % 3 else -1,
                    thread=thread,
                    subject=f"s:{ids[i % len(ids)]}",
                )
            ),
        ),
    ]


def main() -> None:
    """Start the stack, measure, stop it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    cfg = InfraConfig.shifted(REPO_ROOT / ".veil" / "rpc_cpu", 300)
    lifecycle.destroy(cfg)
    lifecycle.start(cfg)
    # No tracing: the figure is the service's own work.
    stack = Stack(cfg, ports=Ports.ephemeral(), attached=True, log_level="WARNING")
    try:
        stack.migrate()
        stack.start_services()
        asyncio.run(_run(stack, args.calls))
    finally:
        stack.stop_processes()
        lifecycle.stop(cfg)


if __name__ == "__main__":
    main()
