"""Members: reachability, notification opt-out, profile counters, activity events,
erasure (a confession's author may become NULL), the channel post
of a confession, and the community's choice for erased posts.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COUNTERS = ("confessions_sent", "confessions_approved", "comments_written", "reactions_received")


def upgrade() -> None:
    op.add_column(
        "members",
        sa.Column("notifications_enabled", sa.Boolean, nullable=False, server_default="true"),
    )
    op.add_column("members", sa.Column("unreachable_since", sa.DateTime(timezone=True)))
    for name in _COUNTERS:
        op.add_column("members", sa.Column(name, sa.Integer, nullable=False, server_default="0"))
    # An erased member's confessions stay (numbers are gap-free, threads keep
    # their place) without an author.
    op.alter_column("confessions", "member_id", nullable=True)
    op.add_column(
        "communities",
        sa.Column("erased_posts", sa.Text, nullable=False, server_default="replace"),
    )
    op.create_check_constraint(
        "communities_erased_posts_check", "communities", "erased_posts IN ('replace', 'delete')"
    )
    op.create_table(
        "member_events",
        sa.Column(
            "member_id",
            sa.BigInteger,
            sa.ForeignKey("members.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("event_key", sa.Text, primary_key=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def downgrade() -> None:
    op.drop_table("member_events")
    op.drop_constraint("communities_erased_posts_check", "communities")
    op.drop_column("communities", "erased_posts")
    for name in reversed(_COUNTERS):
        op.drop_column("members", name)
    op.drop_column("members", "unreachable_since")
    op.drop_column("members", "notifications_enabled")
