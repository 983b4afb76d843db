"""Wiring of the notifier service."""

from __future__ import annotations

from contextlib import AsyncExitStack

from prometheus_client import CollectorRegistry

from services.notifier.config import NotifierSettings
from services.notifier.erasure import QueueErasure
from services.notifier.models import SCHEMA
from services.notifier.repository import NotifierRepository
from services.notifier.servicer import NotifierServicer
from veil.core.db import Database
from veil.core.grpc_server import Registration, run_database_service
from veil.core.retention import start_pruner
from veil.core.sealing import keyring_or_exit, open_keyring
from veil.v1 import notifier_pb2, notifier_pb2_grpc


def main() -> None:
    """Console entry point: ``python -m services.notifier``."""
    settings = NotifierSettings()
    keys = keyring_or_exit(settings)

    async def build(
        db: Database, closing: AsyncExitStack, _registry: CollectorRegistry
    ) -> list[Registration]:
        await open_keyring(db, SCHEMA, keys)
        erasure = QueueErasure(db, keys)
        start_pruner(
            closing,
            settings.retention_interval_seconds,
            lambda: erasure.prune(
                settings.outbox_retention_days, settings.dead_letter_retention_days
            ),
        )
        return [
            Registration.of(
                notifier_pb2.DESCRIPTOR,
                "NotifierService",
                notifier_pb2_grpc.add_NotifierServiceServicer_to_server,
                NotifierServicer(NotifierRepository(db, keys), settings, erasure),
            )
        ]

    run_database_service(SCHEMA, settings, build)
