"""Wiring of the social service: settings → database, outbox, confessions → gRPC server."""

from __future__ import annotations

from contextlib import AsyncExitStack

from services.social.confession_reports import SafetyServicer
from services.social.config import SocialSettings
from services.social.models import SCHEMA
from services.social.repository import SocialRepository
from services.social.retention import prune_pacers
from services.social.stats import AdminComments, ThreadFigures
from veil.core.db import Database
from veil.core.grpc_client import create_channel, service_name
from veil.core.grpc_server import Registration, run_database_service
from veil.core.outbox import Outbox
from veil.core.retention import start_pruner
from veil.v1 import confessions_pb2, confessions_pb2_grpc, social_pb2, social_pb2_grpc


def main() -> None:
    """Console entry point: ``python -m services.social``."""
    settings = SocialSettings()

    async def build(db: Database, closing: AsyncExitStack) -> Registration:
        outbox, notifier_channel = Outbox.connect(settings.notifier_addr)
        closing.push_async_callback(notifier_channel.close)
        confessions_channel = create_channel(
            settings.confessions_addr,
            [service_name(confessions_pb2.DESCRIPTOR, "ConfessionsService")],
        )
        closing.push_async_callback(confessions_channel.close)
        start_pruner(
            closing,
            settings.retention_interval_seconds,
            lambda: prune_pacers(db, settings.pacer_retention_hours),
        )
        return Registration.of(
            social_pb2.DESCRIPTOR,
            "SocialService",
            social_pb2_grpc.add_SocialServiceServicer_to_server,
            SafetyServicer(
                SocialRepository(db),
                ThreadFigures(db),
                AdminComments(db),
                settings,
                outbox=outbox,
                confessions=confessions_pb2_grpc.ConfessionsServiceStub(confessions_channel),
            ),
        )

    run_database_service(SCHEMA, settings, build)
