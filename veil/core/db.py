"""Postgres engines for one service: a primary and an optional read replica.

Reads that may be a little stale go to the replica; when the replica cannot be
reached they fall back to the primary, so members are never refused a page,
and the replica is left alone for a few seconds so that every read does not
pay for the failed connection attempt again.
Writes, and reads a member must see their own writes in, use the primary.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy import exc, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from veil.core.settings import DatabaseSettings

log = logging.getLogger(__name__)

# Seconds of WAL the replica has received but not replayed yet: 0 when it has
# replayed everything it got (an idle primary is not "lag").
_REPLICA_LAG = text(
    "SELECT CASE WHEN NOT pg_is_in_recovery() "
    "OR pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 0) END"
)


def _engine(
    dsn: str, settings: DatabaseSettings, schema: str, *, pre_ping: bool = False
) -> AsyncEngine:
    return create_async_engine(
        dsn,
        # Every connection stays open: overflow connections were closed on
        # return and reopened on the next burst (91 new backends per 600
        # bench sessions). Beyond the pool, a call waits for a connection.
        pool_size=settings.db_pool_size,
        max_overflow=0,
        pool_pre_ping=pre_ping,
        pool_recycle=1800,
        # A failed statement's message must not quote its values (member text):
        # it reaches logs, spans and callers (see veil.core.redact).
        hide_parameters=True,
        # Compiled SQL per statement shape (the default 500 is shared by every
        # statement of every table; the hot paths must not be evicted).
        query_cache_size=2000,
        connect_args={
            # asyncpg prepares each statement once per connection and keeps it:
            # a hot statement is parsed and planned once, not per call.
            "prepared_statement_cache_size": 500,
            "server_settings": {
                "search_path": schema,
                "statement_timeout": str(settings.db_statement_timeout_ms),
                "application_name": f"veil-{schema}",
            },
            "timeout": 5,
        },
    )


async def _autocommit(conn: AsyncConnection) -> AsyncConnection:
    """``conn`` without a transaction around its statements.

    A read is one statement (or a few that need no common snapshot): without
    this the driver would send BEGIN before it and ROLLBACK when the connection
    goes back to the pool, two round trips for nothing. The pool restores the
    isolation level on return, without a round trip.
    """
    return await conn.execution_options(isolation_level="AUTOCOMMIT")


@dataclass
class Database:
    """The engines of one service schema."""

    primary: AsyncEngine
    replica: AsyncEngine | None
    replica_retry_seconds: float = 5.0
    _replica_down_until: float = field(default=0.0, init=False)

    @classmethod
    def from_settings(cls, settings: DatabaseSettings, schema: str) -> Database:
        """Build engines for ``schema`` from the service settings."""
        primary = _engine(settings.db_primary_dsn.get_secret_value(), settings, schema)
        # Pre-ping on the replica only: a pooled connection to a replica that
        # went away must fail at checkout, where the read can still move to the
        # primary, not in the middle of the query.
        replica = (
            _engine(settings.db_replica_dsn.get_secret_value(), settings, schema, pre_ping=True)
            if settings.db_replica_dsn
            else None
        )
        return cls(primary, replica, settings.db_replica_retry_seconds)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction on the primary, committed when the block ends."""
        async with self.primary.begin() as conn:
            yield conn

    @asynccontextmanager
    async def write_one(self) -> AsyncIterator[AsyncConnection]:
        """One statement on the primary that commits by itself (autocommit).

        For writes that are a single statement (an upsert, a conditional
        UPDATE): Postgres runs each statement atomically anyway, and this saves
        the BEGIN and COMMIT round trips of :meth:`write`.
        """
        async with self.primary.connect() as conn:
            yield await _autocommit(conn)

    @asynccontextmanager
    async def read_own(self) -> AsyncIterator[AsyncConnection]:
        """A read on the primary: for views where a member must see their own writes."""
        async with self.primary.connect() as conn:
            yield await _autocommit(conn)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read on the replica, or on the primary when the replica is unreachable."""
        conn = await self._connect_replica()
        if conn is None:
            async with self.primary.connect() as primary_conn:
                yield await _autocommit(primary_conn)
            return
        try:
            yield await _autocommit(conn)
        finally:
            await conn.close()

    async def _connect_replica(self) -> AsyncConnection | None:
        if self.replica is None or time.monotonic() < self._replica_down_until:
            return None
        try:
            return await self.replica.connect()
        except (OSError, exc.DBAPIError, exc.InterfaceError) as error:
            self._replica_down_until = time.monotonic() + self.replica_retry_seconds
            log.warning(
                "replica unreachable, reading from primary",
                extra={
                    "error_type": type(error).__name__,
                    "retry_in_s": self.replica_retry_seconds,
                },
            )
            return None

    async def replica_lag_seconds(self) -> float | None:
        """The replica's replay lag; None without a replica or when it is unreachable."""
        if self.replica is None:
            return None
        try:
            async with self.replica.connect() as conn:
                return float((await conn.execute(_REPLICA_LAG)).scalar_one())
        except (OSError, exc.DBAPIError, exc.InterfaceError):
            return None

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.primary.dispose()
        if self.replica is not None:
            await self.replica.dispose()
