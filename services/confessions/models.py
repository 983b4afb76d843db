"""Tables of the ``confessions`` schema (SQLAlchemy Core; Alembic mirrors them)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    func,
)

SCHEMA = "confessions"
metadata = MetaData(schema=SCHEMA)

STATUSES = ("pending", "approved", "rejected", "published", "deleted")

communities = Table(
    "communities",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("bot_id", BigInteger, nullable=False, unique=True),
    Column("bot_token", Text, nullable=False),
    Column("bot_username", Text, nullable=False),
    Column("channel_chat_id", BigInteger, nullable=False),
    Column("admin_chat_id", BigInteger, nullable=False),
    Column("title", Text, nullable=False),
    # Last confession number handed out; "#N" is gap-free per community.
    Column("last_number", BigInteger, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# telegram_user_id is kept only because messages must be delivered to the
# member; it is never returned by the API.
members = Table(
    "members",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("community_id", BigInteger, ForeignKey(communities.c.id), nullable=False),
    Column("telegram_user_id", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("community_id", "telegram_user_id", name="members_community_user_key"),
)

confessions = Table(
    "confessions",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("community_id", BigInteger, ForeignKey(communities.c.id), nullable=False),
    Column("number", BigInteger, nullable=False),
    Column("member_id", BigInteger, ForeignKey(members.c.id), nullable=False),
    Column("text", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("idempotency_key", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("community_id", "number", name="confessions_community_number_key"),
    UniqueConstraint("community_id", "idempotency_key", name="confessions_idempotency_key"),
    CheckConstraint(
        "status IN ('pending', 'approved', 'rejected', 'published', 'deleted')",
        name="confessions_status_check",
    ),
    Index("confessions_member_idx", "member_id", "id"),
)
