"""Settings of the confessions service (``VEIL_*`` environment variables)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from veil.contracts.lengths import CONFESSION_MAX_LENGTH
from veil.core.sealing import SealingSettings
from veil.core.settings import ServiceSettings


class ConfessionsSettings(ServiceSettings, SealingSettings):
    """The confessions service: Postgres schema ``confessions``, gRPC port 50051."""

    confession_max_length: int = Field(
        default=CONFESSION_MAX_LENGTH, ge=1, le=CONFESSION_MAX_LENGTH
    )
    notifier_addr: str = Field(
        description="gRPC target of the notifier service (cards, channel posts, notices)."
    )
    redis_nodes: str = Field(
        description="Redis Cluster startup nodes, host:port,… (cooldowns and daily caps)."
    )
    id_hash_key: SecretStr = Field(
        description="Key of the protected subjects (bans and limits that outlive /deleteme)."
    )
    member_event_retention_days: int = Field(
        default=30,
        ge=1,
        description="Member events (RecordMemberActivity's idempotency marks) are kept this long.",
    )
    admin_messages_per_hour: int = Field(
        default=10,
        ge=1,
        description="Messages one member may write to the admins per hour (✉️ Write to the admins).",
    )
    retention_interval_seconds: float = Field(
        default=3600.0, gt=0, description="How often expired rows are pruned."
    )
