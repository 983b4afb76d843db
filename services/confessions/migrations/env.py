"""Alembic environment of the confessions schema."""

from services.confessions.models import metadata
from veil.core.migrations import run_env

run_env(metadata)
