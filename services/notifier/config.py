"""Settings of the notifier service (``VEIL_*`` environment variables)."""

from __future__ import annotations

from veil.core.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    """The notifier service: Postgres schema ``notifier``."""
