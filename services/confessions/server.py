"""Wiring of the confessions service: settings → database, outbox → servicer → gRPC server."""

from __future__ import annotations

import asyncio

from services.confessions.config import ConfessionsSettings
from services.confessions.models import SCHEMA
from services.confessions.repository import ConfessionsRepository
from services.confessions.servicer import ConfessionsServicer
from veil.core.db import Database
from veil.core.grpc_server import Registration, serve
from veil.core.logging import configure_logging
from veil.core.outbox import Outbox
from veil.v1 import confessions_pb2, confessions_pb2_grpc


async def _serve(settings: ConfessionsSettings) -> None:
    db = Database.from_settings(settings, SCHEMA)
    outbox, notifier_channel = Outbox.connect(settings.notifier_addr)

    async def shutdown() -> None:
        await notifier_channel.close()
        await db.dispose()

    registration = Registration.of(
        confessions_pb2.DESCRIPTOR,
        "ConfessionsService",
        confessions_pb2_grpc.add_ConfessionsServiceServicer_to_server,
        ConfessionsServicer(ConfessionsRepository(db), settings, outbox=outbox),
    )
    await serve(settings, [registration], on_shutdown=shutdown)


def main() -> None:
    """Console entry point: ``python -m services.confessions``."""
    settings = ConfessionsSettings()
    configure_logging(SCHEMA, settings.log_level)
    asyncio.run(_serve(settings))
