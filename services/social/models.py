"""Tables of the ``social`` schema."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
)

SCHEMA = "social"
metadata = MetaData(schema=SCHEMA)

# confession_id and member_id refer to the confessions service's ids; no
# foreign keys cross schemas, each service owns only its own tables.
comments = Table(
    "comments",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("community_id", BigInteger, nullable=False),
    Column("confession_id", BigInteger, nullable=False),
    Column("parent_id", BigInteger, nullable=True),
    Column("member_id", BigInteger, nullable=False),
    Column("pseudonym", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("likes", Integer, nullable=False, server_default="0"),
    Column("dislikes", Integer, nullable=False, server_default="0"),
    Column("idempotency_key", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("community_id", "idempotency_key", name="comments_idempotency_key"),
    Index("comments_thread_idx", "confession_id", "id"),
)
