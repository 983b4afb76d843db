"""Settings of the social service (``VEIL_*`` environment variables)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from veil.contracts.lengths import COMMENT_MAX_LENGTH, CONFESSION_MAX_LENGTH
from veil.core.settings import ServiceSettings


class SocialSettings(ServiceSettings):
    """The social service: Postgres schema ``social``."""

    pseudonym_key: SecretStr = Field(
        description="HMAC key for pseudonyms; kept apart from the data, never logged."
    )
    comment_max_length: int = Field(default=COMMENT_MAX_LENGTH, ge=1, le=CONFESSION_MAX_LENGTH)
    confessions_addr: str = Field(description="gRPC target of the confessions service.")
    notifier_addr: str = Field(description="gRPC target of the notifier service.")
    report_threshold: int = Field(
        default=3, ge=1, description="Reports that hide a comment until an admin decides."
    )
    notify_batch_seconds: float = Field(
        default=180,
        ge=0,
        description="A member hears about one thread at most once per this many seconds; "
        "what happens in between is batched into one notification.",
    )
    counter_edit_seconds: float = Field(
        default=60,
        ge=0,
        description="A channel post's comment counter is edited at most once per this "
        "many seconds (a channel allows about 20 edits a minute in all).",
    )
    pacer_retention_hours: float = Field(
        default=24,
        gt=0,
        description="Pacing rows (notification batching, counter edits) are kept this long "
        "after their last slot.",
    )
    retention_interval_seconds: float = Field(
        default=3600.0, gt=0, description="How often expired rows are pruned."
    )
