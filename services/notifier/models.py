"""Tables of the ``notifier`` schema: the durable outbox of Bot API calls."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

SCHEMA = "notifier"
metadata = MetaData(schema=SCHEMA)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("community_id", BigInteger, nullable=False),
    Column("chat_id", BigInteger, nullable=False),
    Column("method", Text, nullable=False),
    Column("params", JSONB, nullable=False),
    Column("priority", SmallInteger, nullable=False),
    Column("idempotency_key", Text, nullable=False, unique=True),
    Column("collapse_key", Text, nullable=True),
    Column("not_before", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("status", Text, nullable=False, server_default="queued"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index(
        "outbox_queued_idx",
        "community_id",
        "priority",
        "id",
        postgresql_where=text("status = 'queued'"),
    ),
)
