"""Reports of confessions feed their reporters' record (issue 16): the admins'
verdict (taken down: upheld; kept: restored) is stored on each report, and a
reporter's record is read by subject across comment and confession reports.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("confession_reports", sa.Column("outcome", sa.Text, nullable=True))
    op.create_index("confession_reports_subject_idx", "confession_reports", ["subject"])


def downgrade() -> None:
    op.drop_index("confession_reports_subject_idx", "confession_reports")
    op.drop_column("confession_reports", "outcome")
