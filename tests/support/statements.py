"""Counting the SQL statements a piece of code sends, through either way into
Postgres: the SQLAlchemy engines and the asyncpg pools of hot statements."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event

from veil.core.db import Database
from veil.core.settings import DatabaseSettings

# What asyncpg sends around a transaction (conn.transaction()).
TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")


class CountedDatabase:
    """A :class:`Database` whose statements can be counted (``async with counting()``)."""

    def __init__(self, settings: DatabaseSettings, schema: str) -> None:
        self._log: list[str] | None = None
        self.db = Database.from_settings(settings, schema, observe=self._observe)

    def _observe(self, sql: str) -> None:
        if self._log is not None:
            self._log.append(sql)

    @asynccontextmanager
    async def counting(self) -> AsyncIterator[list[str]]:
        """Every statement sent while the block runs, BEGINs and COMMITs included."""
        statements: list[str] = []

        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement)

        def begin(conn: Any) -> None:
            # SQLAlchemy opens its transaction on every connection; the driver
            # sends BEGIN (and later COMMIT) only outside autocommit.
            if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
                statements.append("BEGIN")

        engines = [self.db.primary.sync_engine]
        if self.db.replica is not None:
            engines.append(self.db.replica.sync_engine)
        for engine in engines:
            event.listen(engine, "before_cursor_execute", count)
            event.listen(engine, "begin", begin)
        self._log = statements
        try:
            yield statements
        finally:
            # asyncpg tells its query loggers from the event loop, soon after.
            for _ in range(3):
                await asyncio.sleep(0)
            self._log = None
            for engine in engines:
                event.remove(engine, "before_cursor_execute", count)
                event.remove(engine, "begin", begin)


def work(statements: list[str]) -> list[str]:
    """The statements that are not transaction control."""
    return [
        s
        for s in statements
        if s.strip().rstrip(";").split(" ")[0].upper() not in TRANSACTION_CONTROL
    ]
