"""The relay's table (issue 13): a comment's and a reaction's follow-ups to the
confessions service, written beside them and sent on in batches
(veil/core/relay.py, services/social/follow_ups.py).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from veil.core.relay import create_relay_table, drop_relay_table

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_relay_table(op)


def downgrade() -> None:
    drop_relay_table(op, "social")
