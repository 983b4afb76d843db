"""The relay's table (issue 13): calls to the notifier written beside the change
that makes them, sent on in batches (veil/core/relay.py). A submission's card
is one INSERT here instead of one Enqueue RPC.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "relay",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("idempotency_key", sa.Text, nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index("relay_key_idx", "relay", ["idempotency_key"])


def downgrade() -> None:
    # Calls still waiting would be lost: a downgrade refuses while any wait
    # (the new code, still running, sends them within a moment).
    waiting = op.get_bind().execute(sa.text("SELECT count(*) FROM relay")).scalar_one()
    if waiting:
        raise RuntimeError(f"{waiting} calls wait in confessions.relay; retry once they are sent")
    op.drop_index("relay_key_idx", "relay")
    op.drop_table("relay")
