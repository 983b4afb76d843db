"""When a confession was taken down after reports (issue 16): a retried take-down
queues the channel post's deletion again (the first attempt may have failed
after the status changed), which an erasure's 'deleted' must not do.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "confessions", sa.Column("taken_down_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("confessions", "taken_down_at")
