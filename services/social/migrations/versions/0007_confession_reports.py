"""Reports of confessions on the channel (issue 16): one weighted report per
protected subject and confession, with its reason.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "confession_reports",
        sa.Column("confession_id", sa.BigInteger, primary_key=True),
        sa.Column("subject", sa.Text, primary_key=True),
        sa.Column("community_id", sa.BigInteger, nullable=False),
        sa.Column("weight", sa.SmallInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def downgrade() -> None:
    op.drop_table("confession_reports")
