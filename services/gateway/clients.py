"""gRPC stubs of the services the gateway calls."""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from veil.core.grpc_client import create_channel
from veil.v1 import (
    confessions_pb2,
    confessions_pb2_grpc,
    notifier_pb2,
    notifier_pb2_grpc,
    social_pb2,
    social_pb2_grpc,
)


@dataclass(frozen=True)
class ServiceClients:
    """One stub per service, sharing nothing but the event loop."""

    confessions: confessions_pb2_grpc.ConfessionsServiceStub
    social: social_pb2_grpc.SocialServiceStub
    notifier: notifier_pb2_grpc.NotifierServiceStub
    channels: tuple[grpc.aio.Channel, ...]

    @classmethod
    def connect(cls, confessions: str, social: str, notifier: str) -> ServiceClients:
        """Open channels to the three services."""
        confessions_channel = create_channel(
            confessions,
            [confessions_pb2.DESCRIPTOR.services_by_name["ConfessionsService"].full_name],
        )
        social_channel = create_channel(
            social, [social_pb2.DESCRIPTOR.services_by_name["SocialService"].full_name]
        )
        notifier_channel = create_channel(
            notifier, [notifier_pb2.DESCRIPTOR.services_by_name["NotifierService"].full_name]
        )
        return cls(
            confessions=confessions_pb2_grpc.ConfessionsServiceStub(confessions_channel),
            social=social_pb2_grpc.SocialServiceStub(social_channel),
            notifier=notifier_pb2_grpc.NotifierServiceStub(notifier_channel),
            channels=(confessions_channel, social_channel, notifier_channel),
        )

    async def close(self) -> None:
        """Close every channel."""
        for channel in self.channels:
            await channel.close()
