"""The admin cards' message ids are no longer kept here (issue 13).

A decision taken in the moderation Mini App now queues the card's edit in the
notifier under ``edit_of``: the notifier already knows each card's message id
from sending it, so the worker no longer reports it back (one RPC and one
statement fewer per submission). The table held message ids only.

A downgrade brings the table back empty: the old code then finds no message id
for cards sent before (as for a card not sent yet), and their first press says
who decided and edits them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("admin_cards")


def downgrade() -> None:
    op.create_table(
        "admin_cards",
        sa.Column(
            "confession_id",
            sa.BigInteger,
            sa.ForeignKey("confessions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("community_id", sa.BigInteger, nullable=False),
        sa.Column("message_id", sa.BigInteger, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
