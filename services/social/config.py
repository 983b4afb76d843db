"""Settings of the social service (``VEIL_*`` environment variables)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from veil.core.settings import ServiceSettings


class SocialSettings(ServiceSettings):
    """The social service: Postgres schema ``social``."""

    pseudonym_key: SecretStr = Field(
        description="HMAC key for pseudonyms; kept apart from the data, never logged."
    )
    comment_max_length: int = Field(default=1000, ge=1, le=4000)
