"""Postgres engines for one service: a primary and an optional read replica.

Reads that may be a little stale go to the replica; when the replica cannot be
reached they fall back to the primary, so members are never refused a page.
Writes, and reads a member must see their own writes in, use the primary.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from veil.core.settings import DatabaseSettings

log = logging.getLogger(__name__)


def _engine(dsn: str, settings: DatabaseSettings, schema: str) -> AsyncEngine:
    return create_async_engine(
        dsn,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=False,
        pool_recycle=1800,
        connect_args={
            "server_settings": {
                "search_path": schema,
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "application_name": f"veil-{schema}",
            },
            "timeout": 5,
        },
    )


@dataclass
class Database:
    """The engines of one service schema."""

    primary: AsyncEngine
    replica: AsyncEngine | None

    @classmethod
    def from_settings(cls, settings: DatabaseSettings, schema: str) -> Database:
        """Build engines for ``schema`` from the service settings."""
        primary = _engine(settings.db_primary_dsn.get_secret_value(), settings, schema)
        replica = (
            _engine(settings.db_replica_dsn.get_secret_value(), settings, schema)
            if settings.db_replica_dsn
            else None
        )
        return cls(primary=primary, replica=replica)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction on the primary, committed when the block ends."""
        async with self.primary.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read_own(self) -> AsyncIterator[AsyncConnection]:
        """A read on the primary: for views where a member must see their own writes."""
        async with self.primary.connect() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read on the replica, or on the primary when the replica is unreachable."""
        conn = await self._connect_replica()
        if conn is None:
            async with self.primary.connect() as primary_conn:
                yield primary_conn
            return
        try:
            yield conn
        finally:
            await conn.close()

    async def _connect_replica(self) -> AsyncConnection | None:
        if self.replica is None:
            return None
        try:
            return await self.replica.connect()
        except (OSError, exc.DBAPIError, exc.InterfaceError) as error:
            log.warning("replica unreachable, reading from primary", extra={"error": str(error)})
            return None

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.primary.dispose()
        if self.replica is not None:
            await self.replica.dispose()
