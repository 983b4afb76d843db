"""Admin cards: the message id of each confession's card in the admin chat, so
that a decision taken in the moderation Mini App edits the same card.

No member content is stored here (the card is rebuilt from the confession).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
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
    # The Mini App's queue: a community's pending confessions, oldest first.
    op.create_index(
        "confessions_pending_idx",
        "confessions",
        ["community_id", "id"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("confessions_pending_idx", "confessions")
    op.drop_table("admin_cards")
