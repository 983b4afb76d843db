"""Wiring of the confessions service: settings → database, Redis, outbox → servicer → gRPC."""

from __future__ import annotations

from contextlib import AsyncExitStack

from services.confessions.config import ConfessionsSettings
from services.confessions.dashboard_repository import DashboardRepository
from services.confessions.limits import SubmissionLimits
from services.confessions.models import SCHEMA
from services.confessions.protection import ProtectionRepository
from services.confessions.repository import ConfessionsRepository
from services.confessions.take_down import SafetyServicer
from veil.core.db import Database
from veil.core.grpc_server import Registration, run_database_service
from veil.core.hashing import subject_token
from veil.core.outbox import Outbox
from veil.core.redis import connect_redis_cluster
from veil.core.retention import start_pruner
from veil.v1 import confessions_pb2, confessions_pb2_grpc


def main() -> None:
    """Console entry point: ``python -m services.confessions``."""
    settings = ConfessionsSettings()

    async def build(db: Database, closing: AsyncExitStack) -> Registration:
        redis = await connect_redis_cluster(settings.redis_nodes)
        closing.push_async_callback(redis.aclose)
        outbox, notifier_channel = Outbox.connect(settings.notifier_addr)
        closing.push_async_callback(notifier_channel.close)
        key = settings.id_hash_key.get_secret_value().encode()
        protection = ProtectionRepository(db, lambda c, u: subject_token(key, c, u))
        await protection.adopt_legacy_bans()
        start_pruner(
            closing,
            settings.retention_interval_seconds,
            lambda: protection.prune(settings.member_event_retention_days),
        )
        return Registration.of(
            confessions_pb2.DESCRIPTOR,
            "ConfessionsService",
            confessions_pb2_grpc.add_ConfessionsServiceServicer_to_server,
            SafetyServicer(
                ConfessionsRepository(db),
                DashboardRepository(db),
                settings,
                outbox=outbox,
                limits=SubmissionLimits(redis),
                protection=protection,
            ),
        )

    run_database_service(SCHEMA, settings, build)
