"""Postgres engines for one service: a primary and an optional read replica.

Reads that may be a little stale go to the replica; when the replica cannot be
reached they fall back to the primary, so members are never refused a page,
and the replica is left alone for a few seconds so that every read does not
pay for the failed connection attempt again.
Writes, and reads a member must see their own writes in, use the primary.

Two ways in: the SQLAlchemy engines (``write``, ``read`` …; Alembic and every
statement not on a hot path) and asyncpg pools beside them (``fetch``,
``fetchrow``, ``fetchval``, ``execute``, ``transaction``) that run the hot
paths' precompiled :class:`~veil.core.statements.Statement` s without
SQLAlchemy's per-call machinery.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from veil.core.settings import DatabaseSettings
from veil.core.statements import Statement, scrub

_T = TypeVar("_T")

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


# Errors from Postgres that say the replica (or the connection to it) is gone,
# not that the statement is wrong.
_REPLICA_GONE = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
)


# What says a pooled connection to the primary is gone, whatever the statement:
# the server went away (restart, failover) or the connection broke. Like the
# engine invalidating its pool, every pooled connection is replaced then, so
# that one restart fails one call, not one per pooled connection.
_CONNECTION_LOST = (
    OSError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InternalClientError,
    *_REPLICA_GONE,
)


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release without the default reset round trip (``RESET ALL``, ``UNLISTEN *``…).

    The hot statements leave no session state behind: no SET, LISTEN, advisory
    lock or cursor. An open transaction is still rolled back by asyncpg before
    this is called.
    """


@dataclass
class _PoolSpec:
    """How to open one asyncpg pool (opened on first use: building a Database
    stays synchronous, as its callers and Alembic expect)."""

    # Out of repr: it carries the password.
    dsn: str = field(repr=False)
    settings: DatabaseSettings = field(repr=False)
    schema: str = ""
    # Told every statement's SQL (tests count round trips); None in services.
    observe: Callable[[str], None] | None = None
    pool: asyncpg.Pool | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def _init(self, conn: asyncpg.Connection) -> None:
        observe = self.observe
        if observe is not None:
            conn.add_query_logger(lambda record: observe(record.query))

    async def get(self) -> asyncpg.Pool:
        if self.pool is not None:
            return self.pool
        async with self.lock:
            if self.pool is None:
                url = make_url(self.dsn).set(drivername="postgresql")
                self.pool = await asyncpg.create_pool(
                    url.render_as_string(hide_password=False),
                    # Opened as calls need them, and kept (min_size > 0 would
                    # have asyncpg reconnect in the background, logging a
                    # traceback a second, while Postgres is away).
                    min_size=0,
                    max_size=self.settings.db_pool_size,
                    # Idle connections stay open: a burst must not open new backends.
                    max_inactive_connection_lifetime=0,
                    statement_cache_size=500,
                    timeout=5,
                    init=self._init if self.observe is not None else None,
                    reset=_keep_session,
                    server_settings={
                        "search_path": self.schema,
                        "statement_timeout": str(self.settings.db_statement_timeout_ms),
                        "application_name": f"veil-{self.schema}",
                    },
                )
        return self.pool

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
            self.pool = None


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
    # The asyncpg pools of the hot statements (None: built from engines alone,
    # the hot paths then cannot run; from_settings always sets them).
    _pg_primary: _PoolSpec | None = None
    _pg_replica: _PoolSpec | None = None

    @classmethod
    def from_settings(
        cls,
        settings: DatabaseSettings,
        schema: str,
        *,
        observe: Callable[[str], None] | None = None,
    ) -> Database:
        """Build engines for ``schema`` from the service settings.

        ``observe`` is told the SQL of every statement run through the asyncpg
        pools (shortly after it ran: asyncpg calls it from the event loop), for
        tests that count round trips.
        """
        primary = _engine(settings.db_primary_dsn.get_secret_value(), settings, schema)
        # Pre-ping on the replica only: a pooled connection to a replica that
        # went away must fail at checkout, where the read can still move to the
        # primary, not in the middle of the query.
        replica = (
            _engine(settings.db_replica_dsn.get_secret_value(), settings, schema, pre_ping=True)
            if settings.db_replica_dsn
            else None
        )
        db = cls(primary, replica, settings.db_replica_retry_seconds)
        db._pg_primary = _PoolSpec(
            settings.db_primary_dsn.get_secret_value(), settings, schema, observe
        )
        if settings.db_replica_dsn:
            db._pg_replica = _PoolSpec(
                settings.db_replica_dsn.get_secret_value(), settings, schema, observe
            )
        return db

    async def _primary_pool(self) -> asyncpg.Pool:
        if self._pg_primary is None:
            raise RuntimeError("Database built without settings has no asyncpg pool")
        return await self._pg_primary.get()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """An asyncpg connection to the primary, each statement committing by
        itself: for one-statement writes and reads a member must see their own
        writes in."""
        pool = await self._primary_pool()
        try:
            async with pool.acquire() as conn:
                yield conn
        except _CONNECTION_LOST:
            await pool.expire_connections()
            raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """An asyncpg transaction on the primary, committed when the block ends."""
        pool = await self._primary_pool()
        try:
            async with pool.acquire() as conn, conn.transaction():
                yield conn
        except _CONNECTION_LOST:
            await pool.expire_connections()
            raise

    async def fetch(
        self, statement: Statement, *, stale_ok: bool = False, **params: Any
    ) -> list[asyncpg.Record]:
        """Every row of ``statement``: on the primary, or with ``stale_ok`` on the replica
        (on the primary when the replica fails)."""
        args = statement.args(params)
        rows: list[asyncpg.Record]
        if stale_ok:
            pool = await self._replica_pool()
            if pool is not None:
                try:
                    rows = await pool.fetch(statement.sql, *args)
                    return rows
                except asyncpg.PostgresError as error:
                    if not isinstance(error, _REPLICA_GONE):
                        # Postgres answered: the statement failed, on any server.
                        scrub(error, statement.name)
                        raise
                    self._replica_failed(error)
                except Exception as error:  # the connection, not the statement
                    # A broken connection fails in many ways (OSError, a closed
                    # connection, a protocol state asyncpg cannot continue from):
                    # a read is re-runnable, so the primary answers it.
                    self._replica_failed(error)
        rows = await self._on_primary(statement, lambda pool: pool.fetch(statement.sql, *args))
        return rows

    async def fetchrow(
        self, statement: Statement, *, stale_ok: bool = False, **params: Any
    ) -> asyncpg.Record | None:
        """The first row of ``statement`` or None (``stale_ok`` as for :meth:`fetch`)."""
        rows = await self.fetch(statement, stale_ok=stale_ok, **params)
        return rows[0] if rows else None

    async def fetchval(self, statement: Statement, *, stale_ok: bool = False, **params: Any) -> Any:
        """The first column of the first row, or None (``stale_ok`` as for :meth:`fetch`)."""
        row = await self.fetchrow(statement, stale_ok=stale_ok, **params)
        return row[0] if row is not None else None

    async def execute(self, statement: Statement, **params: Any) -> str:
        """Run ``statement`` on the primary for its effect (it commits by itself)."""
        args = statement.args(params)
        status: str = await self._on_primary(
            statement, lambda pool: pool.execute(statement.sql, *args)
        )
        return status

    async def _on_primary(
        self, statement: Statement, run: Callable[[asyncpg.Pool], Awaitable[_T]]
    ) -> _T:
        """``run`` on the primary's pool: a lost connection expires the pool's
        others (they may be as dead), and an error leaves scrubbed of values."""
        primary = await self._primary_pool()
        try:
            return await run(primary)
        except _CONNECTION_LOST:
            await primary.expire_connections()
            raise
        except (asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            scrub(error, statement.name)
            raise

    async def _replica_pool(self) -> asyncpg.Pool | None:
        """The replica's pool, or None without one or while it is left alone.

        No ping per checkout: a read that finds the connection broken fails,
        and the caller runs it again on the primary.
        """
        if self._pg_replica is None or time.monotonic() < self._replica_down_until:
            return None
        try:
            return await self._pg_replica.get()
        except Exception as error:  # creating the pool connects to it
            self._replica_failed(error)
            return None

    def _replica_failed(self, error: BaseException) -> None:
        self._replica_down_until = time.monotonic() + self.replica_retry_seconds
        log.warning(
            "replica unreachable, reading from primary",
            extra={"error_type": type(error).__name__, "retry_in_s": self.replica_retry_seconds},
        )

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
        for spec in (self._pg_primary, self._pg_replica):
            if spec is not None:
                await spec.close()
