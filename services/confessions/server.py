"""Wiring of the confessions service: settings → database, Redis, outbox → servicer → gRPC."""

from __future__ import annotations

import asyncio

from services.confessions.config import ConfessionsSettings
from services.confessions.limits import SubmissionLimits
from services.confessions.models import SCHEMA
from services.confessions.repository import ConfessionsRepository
from services.confessions.servicer import ConfessionsServicer
from veil.core.db import Database
from veil.core.grpc_server import Registration, serve
from veil.core.logging import configure_logging
from veil.core.outbox import Outbox
from veil.core.redis import connect_redis_cluster
from veil.v1 import confessions_pb2, confessions_pb2_grpc


async def _serve(settings: ConfessionsSettings) -> None:
    db = Database.from_settings(settings, SCHEMA)
    redis = await connect_redis_cluster(settings.redis_nodes)
    outbox, notifier_channel = Outbox.connect(settings.notifier_addr)
    servicer = ConfessionsServicer(
        ConfessionsRepository(db), settings, outbox=outbox, limits=SubmissionLimits(redis)
    )

    async def shutdown() -> None:
        await notifier_channel.close()
        await redis.aclose()
        await db.dispose()

    registration = Registration.of(
        confessions_pb2.DESCRIPTOR,
        "ConfessionsService",
        confessions_pb2_grpc.add_ConfessionsServiceServicer_to_server,
        servicer,
    )
    await serve(settings, [registration], on_shutdown=shutdown)


def main() -> None:
    """Console entry point: ``python -m services.confessions``."""
    settings = ConfessionsSettings()
    configure_logging(SCHEMA, settings.log_level)
    asyncio.run(_serve(settings))
