"""The confessions process's three gRPC services, as stubs on one channel.

The confessions service is one process serving CommunitiesService,
MembersService and ConfessionsService (confessions.proto). Its callers (the
gateway, the social service, the notifier worker, the CLI) open one channel
with :func:`connect` and call the stub of the concern they need.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from veil.core.grpc_client import create_channel, service_names
from veil.v1 import confessions_pb2, confessions_pb2_grpc, safety_pb2, safety_pb2_grpc


@dataclass(frozen=True)
class ConfessionsStubs:
    """One stub per service of the confessions process."""

    communities: confessions_pb2_grpc.CommunitiesServiceStub
    members: confessions_pb2_grpc.MembersServiceStub
    confessions: confessions_pb2_grpc.ConfessionsServiceStub
    # Warns, warn rules, conversations with the admins (safety.proto).
    safety: safety_pb2_grpc.SafetyServiceStub

    @classmethod
    def of(cls, channel: grpc.aio.Channel) -> ConfessionsStubs:
        """The three stubs on ``channel``."""
        return cls(
            communities=confessions_pb2_grpc.CommunitiesServiceStub(channel),
            members=confessions_pb2_grpc.MembersServiceStub(channel),
            confessions=confessions_pb2_grpc.ConfessionsServiceStub(channel),
            safety=safety_pb2_grpc.SafetyServiceStub(channel),
        )


def connect(target: str) -> tuple[ConfessionsStubs, grpc.aio.Channel]:
    """Stubs on a new channel to ``target`` (retries configured for all three
    services), and the channel to close."""
    channel = create_channel(
        target,
        [*service_names(confessions_pb2.DESCRIPTOR), *service_names(safety_pb2.DESCRIPTOR)],
    )
    return ConfessionsStubs.of(channel), channel
