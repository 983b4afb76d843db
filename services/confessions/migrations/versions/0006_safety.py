"""Trust and safety: warns and their rules, shadow bans, conversations with the admins.

Warns and conversations name their member by protected subject (and the
conversation by member id, for delivery): no Telegram id is stored.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("bans", sa.Column("shadow", sa.Boolean, nullable=False, server_default="false"))
    op.add_column(
        "confessions",
        sa.Column("author_shadowed", sa.Boolean, nullable=False, server_default="false"),
    )
    op.create_table(
        "warns",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("community_id", sa.BigInteger, sa.ForeignKey("communities.id"), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("idempotency_key", sa.Text, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("community_id", "idempotency_key", name="warns_idempotency_key"),
    )
    op.create_index("warns_subject_idx", "warns", ["community_id", "subject", "expires_at"])
    op.create_table(
        "safety_rules",
        sa.Column("community_id", sa.BigInteger, sa.ForeignKey("communities.id"), primary_key=True),
        sa.Column("warn_expiry_seconds", sa.Integer, nullable=False, server_default="2592000"),
        sa.Column("warn_limit", sa.Integer, nullable=False, server_default="3"),
        sa.Column("warn_ban_seconds", sa.Integer, nullable=False, server_default="604800"),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("community_id", sa.BigInteger, sa.ForeignKey("communities.id"), nullable=False),
        sa.Column("member_id", sa.BigInteger, sa.ForeignKey("members.id", ondelete="SET NULL")),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="open"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint(
            "status IN ('open', 'closed', 'blocked')", name="conversations_status_check"
        ),
    )
    op.create_index(
        "conversations_open_idx",
        "conversations",
        ["community_id", "member_id"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index("conversations_subject_idx", "conversations", ["community_id", "subject"])


def downgrade() -> None:
    op.drop_table("conversations")
    op.drop_table("safety_rules")
    op.drop_table("warns")
    op.drop_column("confessions", "author_shadowed")
    op.drop_column("bans", "shadow")
