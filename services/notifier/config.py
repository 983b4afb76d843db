"""Settings of the notifier service and its workers (``VEIL_*`` environment variables)."""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from veil.core.sealing import SealingSettings
from veil.core.settings import CommonSettings, DatabaseSettings, ServiceSettings


class LimitDefaults(BaseSettings):
    """Telegram's limits, used for every community without its own."""

    model_config = SettingsConfigDict(env_prefix="VEIL_", extra="ignore")

    notifier_per_second: float = Field(
        default=30.0, gt=0, description="Messages per second per bot over all chats."
    )
    notifier_per_private_chat_per_second: float = Field(
        default=1.0, gt=0, description="Messages per second to one private chat."
    )
    notifier_per_group_per_minute: float = Field(
        default=20.0, gt=0, description="Messages per minute to one group or channel."
    )


class NotifierSettings(ServiceSettings, LimitDefaults, SealingSettings):
    """The notifier service: Postgres schema ``notifier``."""

    outbox_retention_days: float = Field(
        default=7,
        gt=0,
        description="Finished messages (sent, dead, dropped, collapsed) are kept this long; "
        "longer than any retry of an enqueue, which their idempotency keys absorb.",
    )
    dead_letter_retention_days: float = Field(
        default=30, gt=0, description="Dead letters are kept this long."
    )
    retention_interval_seconds: float = Field(
        default=3600.0, gt=0, description="How often expired rows are pruned."
    )


class WorkerSettings(CommonSettings, DatabaseSettings, LimitDefaults, SealingSettings):
    """A notifier worker: claims queued messages and sends them to the Bot API."""

    confessions_addr: str = Field(description="gRPC target of the confessions service.")
    redis_nodes: str = Field(description="Redis Cluster startup nodes, host:port,…")
    id_hash_key: SecretStr = Field(
        description="Key that makes chat ids in Redis keys opaque (the gateway's key)."
    )
    telegram_api_url: str = "https://api.telegram.org"

    notifier_lease_seconds: float = Field(
        default=30.0,
        ge=1,
        description="How long a claimed message is a worker's; a dead worker's messages "
        "are claimed again after this.",
    )
    notifier_batch_size: int = Field(default=50, ge=1, le=1000)
    notifier_max_in_flight: int = Field(
        default=200, ge=1, description="Messages one worker holds at once (waiting or sending)."
    )
    notifier_poll_seconds: float = Field(
        default=0.2, gt=0, description="Pause between claims when the queue is empty."
    )
    notifier_safety_margin: float = Field(
        default=0.06,
        ge=0,
        le=1,
        description="A bot sends at 1/(1 + this) of its limit; the difference is each "
        "message's tolerance for arriving late (see services/notifier/worker/flood_limiter.py).",
    )
    notifier_slot_horizon_seconds: float = Field(
        default=0.25,
        gt=0,
        description="How far ahead a worker reserves a sending slot: a slot taken just "
        "before it is used knows the latest answers (see worker/flood_limiter.py).",
    )
    notifier_max_attempts: int = Field(
        default=6, ge=1, description="Attempts on 5xx/network errors before dead-lettering."
    )
    notifier_backoff_base_seconds: float = Field(default=0.5, gt=0)
    notifier_backoff_cap_seconds: float = Field(default=60.0, gt=0)
    notifier_request_timeout_seconds: float = Field(default=10.0, gt=0)
    notifier_refresh_seconds: float = Field(
        default=30.0, gt=0, description="How often bot tokens and limits are reloaded."
    )
    notifier_stats_seconds: float = Field(
        default=5.0, gt=0, description="How often queue depth gauges are refreshed."
    )
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)

    @model_validator(mode="after")
    def _lease_covers_a_send(self) -> Self:
        # A claimed message leaves within the first half of its lease, then the
        # call may take the whole request timeout and its outcome a moment to be
        # recorded: all of it must end before the lease does, or another worker
        # claims the message again while it is being sent.
        if self.notifier_request_timeout_seconds + 1 > self.notifier_lease_seconds / 2:
            raise ValueError(
                "VEIL_NOTIFIER_REQUEST_TIMEOUT_SECONDS + 1 must not exceed half of "
                "VEIL_NOTIFIER_LEASE_SECONDS"
            )
        return self
