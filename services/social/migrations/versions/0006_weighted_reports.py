"""Trust-weighted reports (issue 16): each report's weight and reason, and what
the admins made of it (upheld: the comment was deleted; restored); each
comment's weighted total. Existing reports count as full ones.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "reports", sa.Column("weight", sa.SmallInteger, nullable=False, server_default="100")
    )
    op.add_column("reports", sa.Column("reason", sa.Text, nullable=False, server_default="other"))
    op.add_column("reports", sa.Column("outcome", sa.Text, nullable=True))
    # A reporter's record is read by subject.
    op.create_index("reports_subject_idx", "reports", ["subject"])
    op.add_column(
        "comments",
        sa.Column("report_weight", sa.Integer, nullable=False, server_default="0"),
    )
    op.execute("UPDATE comments SET report_weight = reports * 100 WHERE reports > 0")
    # What the doxxing guard or the word filter flagged (a card went to the admins).
    op.add_column("comments", sa.Column("flagged", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("comments", "flagged")
    op.drop_column("comments", "report_weight")
    op.drop_index("reports_subject_idx", table_name="reports")
    op.drop_column("reports", "outcome")
    op.drop_column("reports", "reason")
    op.drop_column("reports", "weight")
