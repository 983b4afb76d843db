"""Wiring of the social service: settings → database, outbox, confessions → gRPC server."""

from __future__ import annotations

import asyncio

from services.social.config import SocialSettings
from services.social.models import SCHEMA
from services.social.repository import SocialRepository
from services.social.servicer import SocialServicer
from veil.core.db import Database
from veil.core.grpc_client import create_channel, service_name
from veil.core.grpc_server import Registration, serve
from veil.core.outbox import Outbox
from veil.core.telemetry import init_process
from veil.v1 import confessions_pb2, confessions_pb2_grpc, social_pb2, social_pb2_grpc


async def _serve(settings: SocialSettings) -> None:
    db = Database.from_settings(settings, SCHEMA)
    outbox, notifier_channel = Outbox.connect(settings.notifier_addr)
    confessions_channel = create_channel(
        settings.confessions_addr,
        [service_name(confessions_pb2.DESCRIPTOR, "ConfessionsService")],
    )
    servicer = SocialServicer(
        SocialRepository(db),
        settings,
        outbox=outbox,
        confessions=confessions_pb2_grpc.ConfessionsServiceStub(confessions_channel),
    )

    async def shutdown() -> None:
        await notifier_channel.close()
        await confessions_channel.close()
        await db.dispose()

    registration = Registration.of(
        social_pb2.DESCRIPTOR,
        "SocialService",
        social_pb2_grpc.add_SocialServiceServicer_to_server,
        servicer,
    )
    await serve(settings, [registration], on_shutdown=shutdown, db=db)


def main() -> None:
    """Console entry point: ``python -m services.social``."""
    settings = SocialSettings()
    telemetry = init_process(SCHEMA, settings)
    try:
        asyncio.run(_serve(settings))
    finally:
        telemetry.shutdown()
