"""Threads: comment status and report count, reactions, reports.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "comments", sa.Column("status", sa.Text, nullable=False, server_default="visible")
    )
    op.add_column("comments", sa.Column("reports", sa.Integer, nullable=False, server_default="0"))
    op.add_column(
        "comments", sa.Column("by_author", sa.Boolean, nullable=False, server_default="false")
    )
    op.create_table(
        "reactions",
        sa.Column("comment_id", sa.BigInteger, primary_key=True),
        sa.Column("member_id", sa.BigInteger, primary_key=True),
        sa.Column("value", sa.SmallInteger, nullable=False),
        sa.CheckConstraint("value IN (-1, 1)", name="reactions_value"),
    )
    op.create_table(
        "reports",
        sa.Column("comment_id", sa.BigInteger, primary_key=True),
        sa.Column("member_id", sa.BigInteger, primary_key=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_table(
        "pacers",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("next_allowed", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pending", sa.Integer, nullable=False, server_default="0"),
    )
    # Erasing a member finds their rows without a scan.
    op.create_index("comments_member_idx", "comments", ["community_id", "member_id"])
    op.create_index("reactions_member_idx", "reactions", ["member_id"])


def downgrade() -> None:
    op.drop_index("comments_member_idx", "comments")
    op.drop_table("pacers")
    op.drop_table("reports")
    op.drop_table("reactions")
    op.drop_column("comments", "by_author")
    op.drop_column("comments", "reports")
    op.drop_column("comments", "status")
