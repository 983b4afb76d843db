"""Protected subjects: bans one row each, attached to a keyed subject that
outlives /deleteme; member events pruned by age.

A ban is no longer one row per member (primary key community + member) but one
row per ban (``id``), naming its target by ``subject`` (veil.core.hashing.
subject_token). Existing bans keep their ``member_id`` until the service,
which holds the key, adopts them at start (see services/confessions/protection.py).

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
    op.drop_constraint("bans_pkey", "bans", type_="primary")
    # bigserial numbers the existing bans too.
    op.execute("ALTER TABLE bans ADD COLUMN id bigserial PRIMARY KEY")
    op.add_column("bans", sa.Column("subject", sa.Text, nullable=True))
    op.alter_column("bans", "member_id", nullable=True)
    op.drop_column("bans", "serial")
    op.create_index("bans_subject_idx", "bans", ["community_id", "subject"])
    op.create_index("bans_label_idx", "bans", ["community_id", sa.text("lower(label)")])
    op.create_index("member_events_created_idx", "member_events", ["created_at"])


def downgrade() -> None:
    op.drop_index("member_events_created_idx", "member_events")
    op.drop_index("bans_label_idx", "bans")
    op.drop_index("bans_subject_idx", "bans")
    # Bans of erased members have no member to go back to.
    op.execute("DELETE FROM bans WHERE member_id IS NULL")
    # Of several bans of one member, the newest stays.
    op.execute(
        "DELETE FROM bans b USING bans newer WHERE newer.community_id = b.community_id "
        "AND newer.member_id = b.member_id AND newer.id > b.id"
    )
    op.add_column("bans", sa.Column("serial", sa.Integer, nullable=False, server_default="1"))
    op.drop_column("bans", "subject")
    op.drop_constraint("bans_pkey", "bans", type_="primary")
    op.drop_column("bans", "id")
    op.alter_column("bans", "member_id", nullable=False)
    op.create_primary_key("bans_pkey", "bans", ["community_id", "member_id"])
