"""Delivery state: leases, retries, dead letters, unreachable chats, per-community limits.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.add_column("outbox", sa.Column("retry_at", tz, nullable=True))
    op.add_column("outbox", sa.Column("lease_until", tz, nullable=True))
    op.add_column("outbox", sa.Column("leased_by", sa.Text, nullable=True))
    op.add_column("outbox", sa.Column("sent_at", tz, nullable=True))
    op.add_column("outbox", sa.Column("last_error", sa.Text, nullable=True))
    op.add_column("outbox", sa.Column("reason", sa.Text, nullable=True))
    op.add_column(
        "outbox",
        sa.Column("trace_context", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
    )
    # Head-of-line lookups per chat, and the collapse of older unsent edits.
    op.create_index(
        "outbox_pending_chat_idx",
        "outbox",
        ["community_id", "chat_id", "priority", "id"],
        postgresql_where=sa.text("status IN ('queued', 'sending')"),
    )
    op.create_index(
        "outbox_collapse_idx",
        "outbox",
        ["collapse_key"],
        postgresql_where=sa.text("status = 'queued' AND collapse_key IS NOT NULL"),
    )
    op.create_table(
        "dead_letters",
        sa.Column("outbox_id", sa.BigInteger, primary_key=True),
        sa.Column("community_id", sa.BigInteger, nullable=False),
        sa.Column("chat_id", sa.BigInteger, nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("params", JSONB, nullable=False),
        sa.Column("error_code", sa.Integer, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", tz, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "unreachable_chats",
        sa.Column("community_id", sa.BigInteger, nullable=False),
        sa.Column("chat_id", sa.BigInteger, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("since", tz, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("community_id", "chat_id"),
    )
    op.create_table(
        "community_limits",
        sa.Column("community_id", sa.BigInteger, primary_key=True),
        sa.Column("per_second", sa.Float, nullable=True),
        sa.Column("per_private_chat_per_second", sa.Float, nullable=True),
        sa.Column("per_group_per_minute", sa.Float, nullable=True),
        sa.Column("updated_at", tz, nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("community_limits")
    op.drop_table("unreachable_chats")
    op.drop_table("dead_letters")
    op.drop_index("outbox_collapse_idx", table_name="outbox")
    op.drop_index("outbox_pending_chat_idx", table_name="outbox")
    for column in (
        "trace_context",
        "reason",
        "last_error",
        "sent_at",
        "leased_by",
        "lease_until",
        "retry_at",
    ):
        op.drop_column("outbox", column)
