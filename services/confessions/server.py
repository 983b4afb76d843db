"""Wiring of the confessions service: settings → database, Redis, outbox →
repositories → use cases → the three servicers (communities, members,
confessions) → one gRPC server."""

from __future__ import annotations

from contextlib import AsyncExitStack

from services.confessions.communities_repository import CommunitiesRepository
from services.confessions.communities_servicer import CommunitiesServicer
from services.confessions.confessions_repository import ConfessionsRepository
from services.confessions.confessions_servicer import ConfessionsServicer
from services.confessions.config import ConfessionsSettings
from services.confessions.conversations import ConversationsRepository
from services.confessions.dashboard_repository import DashboardRepository
from services.confessions.members_repository import MembersRepository
from services.confessions.members_servicer import MembersServicer
from services.confessions.models import SCHEMA
from services.confessions.moderate import Moderation
from services.confessions.protection import ProtectionRepository
from services.confessions.safety import SafetyServicer
from services.confessions.sealed import MemberSeal
from services.confessions.submission_limits import HourlyLimit, SubmissionLimits
from services.confessions.warns import WarnsRepository
from veil.core.db import Database
from veil.core.grpc_server import Registration, run_database_service
from veil.core.hashing import subject_token
from veil.core.outbox import Outbox
from veil.core.redis import connect_redis_cluster
from veil.core.retention import start_pruner
from veil.core.sealing import keyring_or_exit, open_keyring
from veil.v1 import confessions_pb2, confessions_pb2_grpc, safety_pb2, safety_pb2_grpc


def main() -> None:
    """Console entry point: ``python -m services.confessions``."""
    settings = ConfessionsSettings()
    seal = MemberSeal(keyring_or_exit(settings))

    async def build(db: Database, closing: AsyncExitStack) -> list[Registration]:
        await open_keyring(db, SCHEMA, seal.keys)
        redis = await connect_redis_cluster(settings.redis_nodes)
        closing.push_async_callback(redis.aclose)
        outbox, notifier_channel = Outbox.connect(settings.notifier_addr)
        closing.push_async_callback(notifier_channel.close)
        key = settings.id_hash_key.get_secret_value().encode()

        def subject_of(community_id: int, telegram_user_id: int) -> str:
            return subject_token(key, community_id, telegram_user_id)

        protection = ProtectionRepository(db, subject_of, seal)
        warns = WarnsRepository(db, subject_of, seal)
        await protection.adopt_legacy_bans()

        async def prune() -> dict[str, int]:
            pruned = await protection.prune(settings.member_event_retention_days)
            return pruned | {"warns": await warns.prune()}

        start_pruner(closing, settings.retention_interval_seconds, prune)
        communities = CommunitiesRepository(db, seal)
        moderation = Moderation(ConfessionsRepository(db, seal), communities, protection, outbox)
        return [
            Registration.of(
                confessions_pb2.DESCRIPTOR,
                "CommunitiesService",
                confessions_pb2_grpc.add_CommunitiesServiceServicer_to_server,
                CommunitiesServicer(communities),
            ),
            Registration.of(
                confessions_pb2.DESCRIPTOR,
                "MembersService",
                confessions_pb2_grpc.add_MembersServiceServicer_to_server,
                MembersServicer(
                    MembersRepository(db, seal), communities, protection, outbox, subject_of
                ),
            ),
            Registration.of(
                confessions_pb2.DESCRIPTOR,
                "ConfessionsService",
                confessions_pb2_grpc.add_ConfessionsServiceServicer_to_server,
                ConfessionsServicer(
                    moderation.confessions,
                    DashboardRepository(db),
                    moderation,
                    limits=SubmissionLimits(redis),
                    subject_of=subject_of,
                    max_length=settings.confession_max_length,
                ),
            ),
            Registration.of(
                safety_pb2.DESCRIPTOR,
                "SafetyService",
                safety_pb2_grpc.add_SafetyServiceServicer_to_server,
                SafetyServicer(
                    warns=warns,
                    conversations=ConversationsRepository(db, seal),
                    write_limit=HourlyLimit(redis, "write", settings.admin_messages_per_hour),
                    communities=communities,
                    protection=protection,
                    outbox=outbox,
                    subject_of=subject_of,
                ),
            ),
        ]

    run_database_service(SCHEMA, settings, build)
