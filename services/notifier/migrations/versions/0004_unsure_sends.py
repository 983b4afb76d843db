"""Sends whose outcome is unknown, and channel posts whose id the confessions service lacks.

A card or a channel post whose call may have reached Telegram without the
worker recording it (killed mid-send, no answer) is looked for above that id
before it is sent again (services/notifier/worker/reconcile.py). A sent channel
post stays ``unreported`` until RecordPublication stored its id; the workers
report those again (services/notifier/worker/reports.py).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("unsure_after", sa.BigInteger, nullable=True))
    op.add_column(
        "outbox",
        sa.Column("unreported", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index(
        "outbox_unreported_idx", "outbox", ["sent_at"], postgresql_where=sa.text("unreported")
    )


def downgrade() -> None:
    op.drop_index("outbox_unreported_idx", "outbox")
    op.drop_column("outbox", "unreported")
    op.drop_column("outbox", "unsure_after")
