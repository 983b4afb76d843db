"""Settings of the confessions service (``VEIL_*`` environment variables)."""

from __future__ import annotations

from pydantic import Field

from veil.core.settings import ServiceSettings


class ConfessionsSettings(ServiceSettings):
    """The confessions service: Postgres schema ``confessions``, gRPC port 50051."""

    confession_max_length: int = Field(default=4000, ge=1, le=4000)
    notifier_addr: str = Field(
        description="gRPC target of the notifier service (notices to members, channel edits)."
    )
