"""Alembic environment of the social schema."""

from services.social.models import metadata
from veil.core.migrations import run_env

run_env(metadata)
