"""Wiring of the confessions service: settings → database, Redis, outbox →
repositories → use cases → the three servicers (communities, members,
confessions) → one gRPC server."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass

from prometheus_client import CollectorRegistry
from redis.asyncio.cluster import RedisCluster

from services.confessions.cards import CardRetirement
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
from services.confessions.models import relay as relay_table
from services.confessions.moderate import Moderation
from services.confessions.protection import ProtectionRepository, SubjectOf
from services.confessions.safety import SafetyServicer
from services.confessions.sealed import MemberSeal
from services.confessions.submission_limits import HourlyLimit, SubmissionLimits
from services.confessions.warns import WarnsRepository
from veil.core.db import Database
from veil.core.grpc_server import Registration, run_database_service
from veil.core.hashing import subject_token
from veil.core.outbox import Outbox, RelayedOutbox
from veil.core.redis import connect_redis_cluster
from veil.core.relay import start_relay
from veil.core.retention import start_pruner
from veil.core.sealing import keyring_or_exit, open_keyring
from veil.v1 import confessions_pb2, confessions_pb2_grpc, safety_pb2, safety_pb2_grpc


def main() -> None:
    """Console entry point: ``python -m services.confessions``."""
    settings = ConfessionsSettings()
    seal = MemberSeal(keyring_or_exit(settings))

    async def build(
        db: Database, closing: AsyncExitStack, registry: CollectorRegistry
    ) -> list[Registration]:
        return await _build(settings, seal, db, closing, registry)

    run_database_service(SCHEMA, settings, build)


@dataclass(frozen=True)
class _Wiring:
    """What the servicers are built from."""

    settings: ConfessionsSettings
    seal: MemberSeal
    db: Database
    redis: RedisCluster
    outbox: Outbox
    subject_of: SubjectOf
    communities: CommunitiesRepository
    protection: ProtectionRepository
    warns: WarnsRepository
    cards: CardRetirement
    # Cards to the admins, through the relay (one Enqueue per batch).
    cards_out: RelayedOutbox


async def _build(
    settings: ConfessionsSettings,
    seal: MemberSeal,
    db: Database,
    closing: AsyncExitStack,
    registry: CollectorRegistry,
) -> list[Registration]:
    """Connect the clients, start the pruner and the relay; returns the four
    servicers to serve."""
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
    cards = CardRetirement(redis, key, communities)
    relay = start_relay(
        closing,
        db,
        relay_table,
        outbox.send_wire,
        name="notifier",
        registry=registry,
        linger=settings.relay_linger_seconds,
    )
    return _registrations(
        _Wiring(
            settings,
            seal,
            db,
            redis,
            outbox,
            subject_of,
            communities,
            protection,
            warns,
            cards,
            RelayedOutbox(relay),
        )
    )


def _registrations(w: _Wiring) -> list[Registration]:
    """The communities, members, confessions and safety servicers."""
    dashboard = DashboardRepository(w.db)
    moderation = Moderation(
        ConfessionsRepository(w.db, w.seal),
        w.communities,
        w.protection,
        w.outbox,
        w.cards,
        dashboard,
    )
    return [
        Registration.of(
            confessions_pb2.DESCRIPTOR,
            "CommunitiesService",
            confessions_pb2_grpc.add_CommunitiesServiceServicer_to_server,
            CommunitiesServicer(w.communities, w.cards),
        ),
        Registration.of(
            confessions_pb2.DESCRIPTOR,
            "MembersService",
            confessions_pb2_grpc.add_MembersServiceServicer_to_server,
            MembersServicer(
                MembersRepository(w.db, w.seal),
                w.communities,
                w.protection,
                w.outbox,
                w.subject_of,
                w.cards,
            ),
        ),
        Registration.of(
            confessions_pb2.DESCRIPTOR,
            "ConfessionsService",
            confessions_pb2_grpc.add_ConfessionsServiceServicer_to_server,
            ConfessionsServicer(
                moderation.confessions,
                dashboard,
                moderation,
                limits=SubmissionLimits(w.redis),
                subject_of=w.subject_of,
                max_length=w.settings.confession_max_length,
                cards_out=w.cards_out,
            ),
        ),
        Registration.of(
            safety_pb2.DESCRIPTOR,
            "SafetyService",
            safety_pb2_grpc.add_SafetyServiceServicer_to_server,
            SafetyServicer(
                warns=w.warns,
                conversations=ConversationsRepository(w.db, w.seal),
                write_limit=HourlyLimit(w.redis, "write", w.settings.admin_messages_per_hour),
                communities=w.communities,
                protection=w.protection,
                outbox=w.outbox,
                subject_of=w.subject_of,
                cards=w.cards,
            ),
        ),
    ]
