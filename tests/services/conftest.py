"""gRPC channels straight to the services of the test stack."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from tools.devstack.stack import Stack

# Process → the gRPC services it serves.
SERVICE_NAMES = {
    "confessions": (
        "veil.v1.CommunitiesService",
        "veil.v1.MembersService",
        "veil.v1.ConfessionsService",
    ),
    "social": ("veil.v1.SocialService",),
    "notifier": ("veil.v1.NotifierService",),
}


@pytest.fixture(scope="module")
async def channels(stack: Stack) -> AsyncIterator[dict[str, grpc.aio.Channel]]:
    """One channel per service, closed with the module."""
    opened = {
        name: grpc.aio.insecure_channel(f"127.0.0.1:{getattr(stack.ports, name)}")
        for name in SERVICE_NAMES
    }
    yield opened
    for channel in opened.values():
        await channel.close()
