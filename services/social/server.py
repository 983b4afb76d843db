"""Wiring of the social service: settings → database, outbox, confessions → gRPC server."""

from __future__ import annotations

from contextlib import AsyncExitStack

from prometheus_client import CollectorRegistry

from services.social.confession_reports import SafetyServicer
from services.social.config import SocialSettings
from services.social.follow_ups import FollowUps, to_members
from services.social.models import SCHEMA
from services.social.models import relay as relay_table
from services.social.repository import SocialRepository
from services.social.retention import prune_pacers
from services.social.stats import AdminComments, ThreadFigures
from veil.core import confessions_stubs
from veil.core.db import Database
from veil.core.grpc_server import Registration, run_database_service
from veil.core.outbox import Outbox
from veil.core.relay import start_relay
from veil.core.retention import start_pruner
from veil.v1 import social_pb2, social_pb2_grpc


def main() -> None:
    """Console entry point: ``python -m services.social``."""
    settings = SocialSettings()

    async def build(
        db: Database, closing: AsyncExitStack, registry: CollectorRegistry
    ) -> list[Registration]:
        outbox, notifier_channel = Outbox.connect(settings.notifier_addr)
        closing.push_async_callback(notifier_channel.close)
        upstream, confessions_channel = confessions_stubs.connect(settings.confessions_addr)
        closing.push_async_callback(confessions_channel.close)
        start_pruner(
            closing,
            settings.retention_interval_seconds,
            lambda: prune_pacers(db, settings.pacer_retention_hours),
        )
        relay = start_relay(
            closing,
            db,
            relay_table,
            to_members(upstream.members),
            name="confessions",
            registry=registry,
            linger=settings.relay_linger_seconds,
        )
        servicer = SafetyServicer(
            SocialRepository(db),
            ThreadFigures(db),
            AdminComments(db),
            settings,
            outbox=outbox,
            upstream=upstream,
            follow_ups=FollowUps(relay),
        )
        return [
            Registration.of(
                social_pb2.DESCRIPTOR,
                "SocialService",
                social_pb2_grpc.add_SocialServiceServicer_to_server,
                servicer,
            )
        ]

    run_database_service(SCHEMA, settings, build)
