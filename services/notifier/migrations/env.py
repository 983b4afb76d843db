"""Alembic environment of the notifier schema."""

from services.notifier.models import metadata
from veil.core.migrations import run_env

run_env(metadata)
