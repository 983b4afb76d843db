"""The relay's table (issue 13): calls to the notifier written beside the change
that makes them, sent on in batches (veil/core/relay.py). A submission's card
is one INSERT here instead of one Enqueue RPC.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from veil.core.relay import create_relay_table, drop_relay_table

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_relay_table(op)


def downgrade() -> None:
    drop_relay_table(op, "confessions")
