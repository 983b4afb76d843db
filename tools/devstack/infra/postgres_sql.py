"""SQL against the local Postgres: ``psql`` as a role over TCP, superuser SQL over the
private unix socket, and the idempotent bootstrap of roles, database and schemas."""

from __future__ import annotations

from tools.devstack.infra.binaries import psql_bin
from tools.devstack.infra.config import (
    ADMIN_ROLE,
    PG_SUPERUSER,
    REPLICATION_ROLE,
    SERVICE_ROLES,
    InfraConfig,
    socket_dir,
)
from tools.devstack.infra.processes import clean_env, run


def quote_ident(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """``value`` as a quoted SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def _run_psql(
    host: str, port: int, user: str, database: str, sql: str, env: dict[str, str], timeout: float
) -> str:
    """Run ``sql`` with psql (no psqlrc, stop at the first error) and return its unaligned,
    tuples-only output (``-At``) without the trailing newline."""
    proc = run(
        [
            psql_bin(),
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            host,
            "-p",
            str(port),
            "-U",
            user,
            "-d",
            database,
            "-f",
            "-",
        ],
        input=sql,
        env=clean_env({"PGCLIENTENCODING": "UTF8", "PGCONNECT_TIMEOUT": "10", **env}),
        timeout=timeout,
    )
    return proc.stdout.rstrip("\n")


def admin_sql(cfg: InfraConfig, port: int, sql: str, database: str = "postgres") -> str:
    """Run SQL as the bootstrap superuser over our private unix socket (trust auth)."""
    return _run_psql(str(socket_dir(cfg)), port, PG_SUPERUSER, database, sql, {}, timeout=120)


def bootstrap_sql(cfg: InfraConfig) -> str:
    """Idempotent SQL creating roles, the database and the per-service schemas."""
    roles: list[tuple[str, str]] = [
        (ADMIN_ROLE, "SUPERUSER"),
        (REPLICATION_ROLE, "NOSUPERUSER NOCREATEDB NOCREATEROLE REPLICATION"),
        *(
            (role, "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION")
            for role in SERVICE_ROLES.values()
        ),
    ]
    lines = ["SET client_min_messages = warning;"]
    for role, attrs in roles:
        lines += [
            "DO $$ BEGIN",
            f"  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {quote_literal(role)}) THEN",
            f"    CREATE ROLE {quote_ident(role)};",
            "  END IF;",
            "END $$;",
            # Local-only credentials: the password is the role name.
            f"ALTER ROLE {quote_ident(role)} WITH LOGIN {attrs} PASSWORD {quote_literal(role)};",
        ]
    for schema, role in SERVICE_ROLES.items():
        lines.append(f"ALTER ROLE {quote_ident(role)} SET search_path TO {quote_ident(schema)};")
    db = cfg.database
    lines += [
        f"SELECT 'CREATE DATABASE {quote_ident(db)}' "
        f"WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = {quote_literal(db)})\\gexec",
        f"\\connect {db}",
        "SET client_min_messages = warning;",
        # PG15 already defaults to this; kept explicit so nothing can create in public.
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC;",
    ]
    for schema, role in SERVICE_ROLES.items():
        others = [r for r in SERVICE_ROLES.values() if r != role]
        s_id, r_id = quote_ident(schema), quote_ident(role)
        lines += [
            f"CREATE SCHEMA IF NOT EXISTS {s_id} AUTHORIZATION {r_id};",
            f"ALTER SCHEMA {s_id} OWNER TO {r_id};",
            # Each service sees only its own schema.
            f"REVOKE ALL ON SCHEMA {s_id} FROM PUBLIC, "
            + ", ".join(quote_ident(r) for r in others)
            + ";",
        ]
    return "\n".join(lines) + "\n"


def psql(
    cfg: InfraConfig,
    sql: str,
    *,
    replica: bool = False,
    role: str = ADMIN_ROLE,
    timeout: float = 60.0,
) -> str:
    """Run ``sql`` (one or more statements) as ``role`` over TCP and return psql's
    unaligned, tuples-only output (``-At``) without the trailing newline.

    Stops at the first error and raises RuntimeError carrying psql's error message."""
    port = cfg.pg_replica_port if replica else cfg.pg_port
    return _run_psql("127.0.0.1", port, role, cfg.database, sql, {"PGPASSWORD": role}, timeout)
