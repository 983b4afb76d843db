"""Alembic, shared by every service: one migration history per service schema.

Each service keeps its scripts in ``services/<name>/migrations``; its ``env.py``
calls :func:`run_env` with its metadata. :func:`upgrade` runs them to head.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"


def alembic_config(service: str, dsn: str) -> Config:
    """Alembic configuration for ``service`` against ``dsn``."""
    config = Config()
    config.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    config.set_main_option("sqlalchemy.url", dsn.replace("%", "%%"))
    config.attributes["schema"] = service
    return config


def upgrade(service: str, dsn: str, revision: str = "head") -> None:
    """Apply ``service``'s migrations up to ``revision``. Idempotent."""
    command.upgrade(alembic_config(service, dsn), revision)


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's ``migrations/env.py``: run online, async."""
    config = context.config
    schema = config.attributes["schema"]

    def run(connection: Connection) -> None:
        connection.execute(text(f'SET search_path TO "{schema}"'))
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            version_table_schema=schema,
            include_schemas=False,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def main() -> None:
        engine = create_async_engine(
            config.get_main_option("sqlalchemy.url") or "",
            poolclass=pool.NullPool,
            hide_parameters=True,
        )
        async with engine.begin() as connection:
            await connection.run_sync(run)
        await engine.dispose()

    asyncio.run(main())
