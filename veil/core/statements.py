"""Hot statements: written once as SQLAlchemy Core, compiled once, run on asyncpg.

Through the SQLAlchemy engine a statement costs 0.45–1.0 ms of client CPU per
call (the statement rebuilt, its cache key computed, a greenlet, an execution
context and a result proxy); the same statement sent by asyncpg directly costs
0.04–0.1 ms. A :class:`Statement` keeps SQLAlchemy where it helps (the tables
and columns of ``models.py``, type-checked construction) and drops it per call:
the statement is built at import, compiled to the asyncpg dialect's SQL text
(``$1…``) once, and each call only orders its parameters and hands the text to
asyncpg, whose per-connection statement cache parses and plans it once.

Only types asyncpg encodes and decodes by itself are allowed (integers, text,
bytes, booleans, timestamps, arrays of those): a statement whose parameters or
result columns need SQLAlchemy's bind or result processing is refused at
import, so nothing is silently converted differently than through the engine.
Expanding ``IN`` lists are refused too (their SQL changes with the list's
length); ``= ANY(:array)`` does the same with one text.

Rows come back as :class:`asyncpg.Record` (``row["name"]``, ``row[0]``).

An error's text must not quote a member's values into logs and spans (the
engines run with ``hide_parameters``; veil.core.redact cuts the rest): asyncpg
quotes an argument it cannot encode (``invalid input for query argument $1:
'…'``) and appends Postgres's ``DETAIL`` (``Key (…)=(…)``, ``Failing row
contains (…)``) to the message. :func:`scrub` removes both from an error as it
leaves a statement; type, SQLSTATE and constraint name stay.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg
from sqlalchemy import ARRAY
from sqlalchemy.dialects.postgresql.asyncpg import dialect as _AsyncpgDialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

# How asyncpg starts the message of an argument it cannot encode (raised before
# sending, as asyncpg.DataError), which then quotes the argument.
_BAD_ARGUMENT = "invalid input for query argument"

_DIALECT = _AsyncpgDialect()  # type: ignore[no-untyped-call]

# The sentinel of a parameter the caller must give (no value in the statement).
_REQUIRED = object()


class Statement:
    """One SQL statement, compiled once for asyncpg, run with named parameters.

    ``Statement(select(...).where(t.c.id == bindparam("id")))`` at module
    level; then ``await stmt.fetch(conn, id=7)`` (or ``fetchrow``, ``fetchval``,
    ``execute``) on an asyncpg connection (:class:`veil.core.db.Database`
    hands them out). Values written into the statement itself (``status ==
    "visible"``) are sent as parameters too, with the value they were built with.
    """

    __slots__ = ("_defaults", "_order", "name", "sql")

    def __init__(self, statement: ClauseElement, name: str = "") -> None:
        compiled = statement.compile(dialect=_DIALECT)
        assert isinstance(compiled, SQLCompiler)
        _check_plain(compiled, name)
        self.name = name or compiled.string.split(None, 1)[0]
        self.sql: str = compiled.string
        self._order: tuple[str, ...] = tuple(compiled.positiontup or ())
        self._defaults: dict[str, Any] = {
            key: (_REQUIRED if bind.required or bind.callable else bind.effective_value)
            for bind, key in compiled.bind_names.items()
        }

    def args(self, params: Mapping[str, Any]) -> list[Any]:
        """The positional arguments of a call, in ``$n`` order; KeyError names a
        missing parameter (never its value)."""
        out = []
        for key in self._order:
            value = params.get(key, self._defaults[key])
            if value is _REQUIRED:
                raise KeyError(f"{self.name}: parameter {key!r} not given")
            out.append(value)
        return out

    async def fetch(self, conn: asyncpg.Connection, **params: Any) -> list[asyncpg.Record]:
        """Every row of the statement."""
        try:
            rows: list[asyncpg.Record] = await conn.fetch(self.sql, *self.args(params))
        except (asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            scrub(error, self.name)
            raise
        return rows

    async def fetchrow(self, conn: asyncpg.Connection, **params: Any) -> asyncpg.Record | None:
        """The first row, or None."""
        rows = await self.fetch(conn, **params)
        return rows[0] if rows else None

    async def fetchval(self, conn: asyncpg.Connection, **params: Any) -> Any:
        """The first column of the first row, or None."""
        rows = await self.fetch(conn, **params)
        return rows[0][0] if rows else None

    async def execute(self, conn: asyncpg.Connection, **params: Any) -> str:
        """Run it for its effect; returns the command tag (``UPDATE 1``)."""
        try:
            status: str = await conn.execute(self.sql, *self.args(params))
        except (asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            scrub(error, self.name)
            raise
        return status


def scrub(error: BaseException, name: str) -> None:
    """Cut the values asyncpg and Postgres quote from ``error`` (see the module
    docstring) before it is raised again; ``name`` names the statement instead."""
    if not isinstance(error, (asyncpg.PostgresError, asyncpg.InterfaceError)):
        return
    # The server's message names the failure; its DETAIL and HINT quote rows.
    error.detail = None
    error.hint = None
    if error.args and str(error.args[0]).startswith(_BAD_ARGUMENT):
        # "invalid input for query argument $1: '<value>' (…)"; the encoder's
        # own error (its cause) may quote the value too.
        cause = type(error.__cause__).__name__ if error.__cause__ is not None else "value"
        error.args = (f"{_BAD_ARGUMENT} of {name} ({cause})",)
        error.__cause__ = None
        error.__context__ = None


def _check_plain(compiled: SQLCompiler, name: str) -> None:
    """Refuse what the per-call path does not do: expanding parameters and
    types that need SQLAlchemy's conversion of values or results."""
    label = name or compiled.string[:60]
    if compiled.post_compile_params:
        raise TypeError(f"{label}: expanding IN is not supported; use = ANY(:array)")
    for key, bind in compiled.binds.items():
        # An array is sent as a list; only its items could need converting.
        kind = bind.type.item_type if isinstance(bind.type, ARRAY) else bind.type
        if kind._cached_bind_processor(_DIALECT) is not None:
            raise TypeError(f"{label}: parameter {key!r} of type {bind.type!r} needs processing")
    for column in compiled._result_columns:
        processor = column.type._cached_result_processor(_DIALECT, None)
        if processor is not None:
            raise TypeError(f"{label}: column {column.keyname!r} needs result processing")
