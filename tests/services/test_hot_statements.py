"""Hot statements (veil.core.statements on Database's asyncpg pools): a failed one
quotes no value it was given (not in its message, its traceback, nor what logs
and spans keep of it), and a stale-ok read survives a replica that is gone."""

from __future__ import annotations

import time
import traceback
from typing import Any

import asyncpg
import pytest
from sqlalchemy import BigInteger, bindparam, text

from tools.devstack.infra.config import SERVICE_ROLES, InfraConfig
from tools.devstack.ports import free_port
from veil.core.db import Database
from veil.core.redact import describe, redact_message, safe_traceback
from veil.core.settings import DatabaseSettings
from veil.core.statements import Statement

SECRET = "my secret confession"
# A community that does not exist: Postgres would quote it in the FK violation's DETAIL.
SECRET_ID = 987_650_123

_BY_ID = Statement(
    text("SELECT id FROM members WHERE id = :id").bindparams(bindparam("id", type_=BigInteger)),
    "member_by_id",
)
_INSERT = Statement(
    text(
        "INSERT INTO members (community_id, lookup, data_key, chat) "
        "VALUES (:community_id, :lookup, :key, :chat)"
    ),
    "insert_member",
)


_WHERE = Statement(text("SELECT pg_is_in_recovery() AS on_replica"), "where")
_PID = Statement(text("SELECT pg_backend_pid()"), "pid")


def _everything_said(error: BaseException) -> str:
    """All the text an exception can put into a log or a span."""
    return "\n".join(
        [
            str(error),
            repr(error),
            "".join(traceback.format_exception(error)),
            describe(error),
            safe_traceback(error),
            redact_message(str(error)),
        ]
    )


@pytest.mark.parametrize("stale_ok", [False, True])
async def test_a_value_the_statement_cannot_take_is_not_quoted(
    database: Database, stale_ok: bool
) -> None:
    with pytest.raises(asyncpg.DataError) as raised:
        await database.fetch(_BY_ID, stale_ok=stale_ok, id=SECRET)
    said = _everything_said(raised.value)
    assert SECRET not in said
    assert "member_by_id" in str(raised.value)
    # The replica is not blamed for a bad value: the next stale read still goes there.
    assert database._replica_down_until == 0.0


async def test_a_constraint_violation_does_not_quote_the_row(database: Database) -> None:
    values: dict[str, Any] = {
        "community_id": SECRET_ID,
        "lookup": SECRET.encode(),
        "key": SECRET.encode(),
        "chat": SECRET.encode(),
    }
    for run in (
        database.fetch(_INSERT, **values),
        database.execute(_INSERT, **values),
    ):
        with pytest.raises(asyncpg.ForeignKeyViolationError) as raised:
            await run
        said = _everything_said(raised.value)
        assert str(SECRET_ID) not in said and SECRET not in said
        assert raised.value.constraint_name
    with pytest.raises(asyncpg.ForeignKeyViolationError) as raised:
        async with database.transaction() as conn:
            await _INSERT.execute(conn, **values)
    assert str(SECRET_ID) not in _everything_said(raised.value)


def test_a_statement_needing_sqlalchemy_processing_is_refused() -> None:
    from sqlalchemy import JSON, select

    with pytest.raises(TypeError, match="needs processing"):
        Statement(select(bindparam("doc", type_=JSON)), "json")


async def test_a_stale_read_moves_to_the_primary_while_the_replica_is_unreachable(
    infra_config: InfraConfig, stack: Any
) -> None:
    role = SERVICE_ROLES["confessions"]
    settings = DatabaseSettings(
        db_primary_dsn=infra_config.pg_dsn(role),  # type: ignore[arg-type]
        # Nothing listens there: the replica is down.
        db_replica_dsn=f"postgresql+asyncpg://{role}:{role}@127.0.0.1:{free_port()}/x",  # type: ignore[arg-type]
        db_replica_retry_seconds=30,
    )
    db = Database.from_settings(settings, "confessions")
    try:
        assert await db.fetchval(_WHERE, stale_ok=True) is False
        # Left alone for a while: the next reads do not try it again.
        assert db._replica_down_until > time.monotonic() + 20
        assert await db.fetchval(_WHERE, stale_ok=True) is False
    finally:
        await db.dispose()


async def _kill(infra_config: InfraConfig, pids: list[int], *, replica: bool) -> None:
    """Terminate these backends (the test's own connections only)."""
    role = SERVICE_ROLES["confessions"]
    killer = await asyncpg.connect(infra_config.pg_dsn(role, replica=replica, driver="postgresql"))
    try:
        killed = await killer.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM unnest($1::int[]) AS pid", pids
        )
    finally:
        await killer.close()
    assert killed == len(pids)


async def test_a_stale_read_survives_its_replica_connection_being_killed(
    infra_config: InfraConfig, database: Database
) -> None:
    assert await database.fetchval(_WHERE, stale_ok=True) is True
    pid = await database.fetchval(_PID, stale_ok=True)
    await _kill(infra_config, [pid], replica=True)
    # The pooled connection is dead: the read is answered all the same, never
    # refused: on a new replica connection when asyncpg saw the close before
    # the read, else by the primary, the replica then left alone a few seconds.
    on_replica = await database.fetchval(_WHERE, stale_ok=True)
    assert on_replica is True or database._replica_down_until > time.monotonic()
    # Reads a member must see their own writes in stay on the primary.
    assert await database.fetchval(_WHERE) is False


async def test_the_primary_going_away_fails_one_call_not_one_per_connection(
    infra_config: InfraConfig, database: Database
) -> None:
    # Four pooled connections, all killed (as a restart of Postgres would).
    async with (
        database.connection() as a,
        database.connection() as b,
        database.connection() as c,
        database.connection() as d,
    ):
        pids = [await conn.fetchval("SELECT pg_backend_pid()") for conn in (a, b, c, d)]
    await _kill(infra_config, pids, replica=False)
    failures = 0
    for _ in range(4):
        try:
            assert await database.fetchval(_WHERE) is False
        except (
            OSError,
            asyncpg.PostgresError,
            asyncpg.InterfaceError,
            asyncpg.InternalClientError,
        ):
            failures += 1
    assert failures <= 1
    assert await database.fetchval(_PID) not in pids


def test_a_database_s_repr_does_not_show_its_password() -> None:
    settings = DatabaseSettings(
        db_primary_dsn="postgresql+asyncpg://veil:hunter2@db/veil",  # type: ignore[arg-type]
        db_replica_dsn="postgresql+asyncpg://veil:hunter3@replica/veil",  # type: ignore[arg-type]
    )
    shown = repr(Database.from_settings(settings, "confessions"))
    assert "hunter2" not in shown and "hunter3" not in shown
