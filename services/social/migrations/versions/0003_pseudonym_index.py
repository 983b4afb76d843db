"""Moderation: find the member behind a pseudonym (a ban by pseudonym) without a scan.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "comments_pseudonym_idx",
        "comments",
        ["community_id", sa.text("lower(pseudonym)")],
    )


def downgrade() -> None:
    op.drop_index("comments_pseudonym_idx", table_name="comments")
