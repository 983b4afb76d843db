"""Trust and safety rules (issue 16): personal information, the word filter on
comments, the report threshold and link previews per community; the
personal-information flag of a confession's card.

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
    op.add_column(
        "community_rules",
        sa.Column("pii_action", sa.Text, nullable=False, server_default="flag"),
    )
    op.create_check_constraint(
        "community_rules_pii_check",
        "community_rules",
        "pii_action IN ('flag', 'redact', 'reject')",
    )
    op.add_column(
        "community_rules",
        sa.Column("filter_comments", sa.Boolean, nullable=False, server_default="true"),
    )
    # Hundredths of a full report; NULL: the deployment's VEIL_REPORT_THRESHOLD.
    op.add_column("community_rules", sa.Column("report_threshold", sa.Integer, nullable=True))
    op.add_column(
        "community_rules",
        sa.Column("link_previews", sa.Boolean, nullable=False, server_default="false"),
    )
    # What the doxxing guard found and left in (rule flag), shown on the card.
    op.add_column("confessions", sa.Column("pii_found", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("confessions", "pii_found")
    op.drop_column("community_rules", "link_previews")
    op.drop_column("community_rules", "report_threshold")
    op.drop_column("community_rules", "filter_comments")
    op.drop_constraint("community_rules_pii_check", "community_rules")
    op.drop_column("community_rules", "pii_action")
