"""Moderation: decisions and channel posts on confessions, media, bans, community rules.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CONFESSION_COLUMNS = (
    ("moderated_by", sa.Text),
    ("decision", sa.Text),
    ("moderated_at", sa.DateTime(timezone=True)),
    ("reject_reason", sa.Text),
    ("channel_message_id", sa.BigInteger),
    ("flagged_word", sa.Text),
    ("media_kind", sa.Text),
    ("file_id", sa.Text),
)


def upgrade() -> None:
    for name, kind in _CONFESSION_COLUMNS:
        op.add_column("confessions", sa.Column(name, kind))
    # The card's author history counts a member's confessions by status.
    op.create_index("confessions_member_status_idx", "confessions", ["member_id", "status"])
    op.create_table(
        "bans",
        sa.Column("community_id", sa.BigInteger, sa.ForeignKey("communities.id"), nullable=False),
        sa.Column("member_id", sa.BigInteger, sa.ForeignKey("members.id"), nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("until", sa.DateTime(timezone=True)),
        sa.Column("serial", sa.Integer, nullable=False, server_default="1"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("community_id", "member_id", name="bans_pkey"),
    )
    op.create_table(
        "community_rules",
        sa.Column("community_id", sa.BigInteger, sa.ForeignKey("communities.id"), primary_key=True),
        sa.Column("cooldown_seconds", sa.Integer, nullable=False, server_default="0"),
        sa.Column("daily_cap", sa.Integer, nullable=False, server_default="0"),
        sa.Column("max_length", sa.Integer, nullable=False, server_default="4000"),
        sa.Column("filter_words", postgresql.ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("filter_action", sa.Text, nullable=False, server_default="flag"),
        sa.Column("reject_reasons", postgresql.ARRAY(sa.Text)),
        sa.Column("publish_interval_minutes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_publish_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint(
            "filter_action IN ('flag', 'reject')", name="community_rules_filter_check"
        ),
    )


def downgrade() -> None:
    op.drop_table("community_rules")
    op.drop_table("bans")
    op.drop_index("confessions_member_status_idx", table_name="confessions")
    for name, _ in reversed(_CONFESSION_COLUMNS):
        op.drop_column("confessions", name)
