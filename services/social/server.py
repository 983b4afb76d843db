"""Wiring of the social service."""

from __future__ import annotations

from services.social.config import SocialSettings
from services.social.models import SCHEMA
from services.social.repository import SocialRepository
from services.social.servicer import SocialServicer
from veil.core.db import Database
from veil.core.grpc_server import Registration, run_database_service
from veil.v1 import social_pb2, social_pb2_grpc


def main() -> None:
    """Console entry point: ``python -m services.social``."""
    settings = SocialSettings()

    def build(db: Database) -> Registration:
        return Registration.of(
            social_pb2.DESCRIPTOR,
            "SocialService",
            social_pb2_grpc.add_SocialServiceServicer_to_server,
            SocialServicer(SocialRepository(db), settings),
        )

    run_database_service(SCHEMA, settings, build)
