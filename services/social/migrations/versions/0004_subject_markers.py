"""Reports and reactions keyed by protected subject, so they outlive /deleteme;
a change counter per comment for "reactions received"; pacers pruned by age.

Existing rows get the subject "m:<member id>" (the service cannot compute the
keyed token without the key): until that member erases themselves, when their
subject replaces it, it is recognised as theirs by the member id.

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
    op.add_column(
        "comments",
        sa.Column("reaction_changes", sa.Integer, nullable=False, server_default="0"),
    )
    for table in ("reports", "reactions"):
        op.add_column(table, sa.Column("subject", sa.Text, nullable=True))
        op.execute(f"UPDATE {table} SET subject = 'm:' || member_id")
        op.alter_column(table, "subject", nullable=False)
        op.drop_constraint(f"{table}_pkey", table, type_="primary")
        op.create_primary_key(f"{table}_pkey", table, ["comment_id", "subject"])
    # A report names no member any more.
    op.drop_column("reports", "member_id")
    op.create_index("pacers_next_allowed_idx", "pacers", ["next_allowed"])


def downgrade() -> None:
    op.drop_index("pacers_next_allowed_idx", "pacers")
    # Markers of erased members have no member to go back to.
    op.execute("DELETE FROM reactions WHERE member_id = 0")
    op.drop_constraint("reactions_pkey", "reactions", type_="primary")
    op.create_primary_key("reactions_pkey", "reactions", ["comment_id", "member_id"])
    op.drop_column("reactions", "subject")
    op.add_column("reports", sa.Column("member_id", sa.BigInteger, nullable=True))
    op.execute("UPDATE reports SET member_id = substr(subject, 3)::bigint WHERE subject LIKE 'm:%'")
    op.execute("DELETE FROM reports WHERE member_id IS NULL")
    op.alter_column("reports", "member_id", nullable=False)
    op.drop_constraint("reports_pkey", "reports", type_="primary")
    op.create_primary_key("reports_pkey", "reports", ["comment_id", "member_id"])
    op.drop_column("reports", "subject")
    op.drop_column("comments", "reaction_changes")
