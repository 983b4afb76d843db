"""Thread states: the author and the open/closed state of every thread with comments.

Existing threads get their author from an author's comment where there is
one; the others stay unknown (checked with the confessions service) until
their next comment names the author.

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
        "thread_states",
        sa.Column("confession_id", sa.BigInteger, primary_key=True),
        sa.Column("community_id", sa.BigInteger, nullable=False),
        sa.Column("author_member_id", sa.BigInteger, nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "thread_states_author_idx", "thread_states", ["community_id", "author_member_id"]
    )
    op.execute(
        "INSERT INTO thread_states (confession_id, community_id, author_member_id) "
        "SELECT confession_id, min(community_id), "
        "NULLIF(min(member_id) FILTER (WHERE by_author), 0) FROM comments GROUP BY confession_id"
    )


def downgrade() -> None:
    op.drop_table("thread_states")
