"""gRPC stubs of the services the gateway calls."""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from veil.core import confessions_stubs
from veil.core.grpc_client import create_channel
from veil.v1 import (
    confessions_pb2_grpc,
    notifier_pb2,
    notifier_pb2_grpc,
    social_pb2,
    social_pb2_grpc,
)


@dataclass(frozen=True)
class ServiceClients:
    """One stub per service, sharing nothing but the event loop.

    ``communities``, ``members`` and ``confessions`` are the three services of
    the confessions process, on one channel.
    """

    communities: confessions_pb2_grpc.CommunitiesServiceStub
    members: confessions_pb2_grpc.MembersServiceStub
    confessions: confessions_pb2_grpc.ConfessionsServiceStub
    social: social_pb2_grpc.SocialServiceStub
    notifier: notifier_pb2_grpc.NotifierServiceStub
    channels: tuple[grpc.aio.Channel, ...]

    @classmethod
    def connect(cls, confessions: str, social: str, notifier: str) -> ServiceClients:
        """Open channels to the three processes."""
        upstream, confessions_channel = confessions_stubs.connect(confessions)
        social_channel = create_channel(
            social, [social_pb2.DESCRIPTOR.services_by_name["SocialService"].full_name]
        )
        notifier_channel = create_channel(
            notifier, [notifier_pb2.DESCRIPTOR.services_by_name["NotifierService"].full_name]
        )
        return cls(
            communities=upstream.communities,
            members=upstream.members,
            confessions=upstream.confessions,
            social=social_pb2_grpc.SocialServiceStub(social_channel),
            notifier=notifier_pb2_grpc.NotifierServiceStub(notifier_channel),
            channels=(confessions_channel, social_channel, notifier_channel),
        )

    async def close(self) -> None:
        """Close every channel."""
        for channel in self.channels:
            await channel.close()
