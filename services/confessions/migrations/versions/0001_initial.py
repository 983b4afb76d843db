"""Communities, members and confessions.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "communities",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("bot_id", sa.BigInteger, nullable=False, unique=True),
        sa.Column("bot_token", sa.Text, nullable=False),
        sa.Column("bot_username", sa.Text, nullable=False),
        sa.Column("channel_chat_id", sa.BigInteger, nullable=False),
        sa.Column("admin_chat_id", sa.BigInteger, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("last_number", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_table(
        "members",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("community_id", sa.BigInteger, sa.ForeignKey("communities.id"), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint("community_id", "telegram_user_id", name="members_community_user_key"),
    )
    op.create_table(
        "confessions",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("community_id", sa.BigInteger, sa.ForeignKey("communities.id"), nullable=False),
        sa.Column("number", sa.BigInteger, nullable=False),
        sa.Column("member_id", sa.BigInteger, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("idempotency_key", sa.Text, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint("community_id", "number", name="confessions_community_number_key"),
        sa.UniqueConstraint("community_id", "idempotency_key", name="confessions_idempotency_key"),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'published', 'deleted')",
            name="confessions_status_check",
        ),
    )
    op.create_index("confessions_member_idx", "confessions", ["member_id", "id"])


def downgrade() -> None:
    op.drop_table("confessions")
    op.drop_table("members")
    op.drop_table("communities")
