"""Comments.

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
        "comments",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("community_id", sa.BigInteger, nullable=False),
        sa.Column("confession_id", sa.BigInteger, nullable=False),
        sa.Column("parent_id", sa.BigInteger, nullable=True),
        sa.Column("member_id", sa.BigInteger, nullable=False),
        sa.Column("pseudonym", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("likes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("dislikes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("idempotency_key", sa.Text, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint("community_id", "idempotency_key", name="comments_idempotency_key"),
    )
    op.create_index("comments_thread_idx", "comments", ["confession_id", "id"])


def downgrade() -> None:
    op.drop_table("comments")
