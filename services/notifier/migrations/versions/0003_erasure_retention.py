"""Erasure and retention: the message id of a sent message, edits that refer to
an earlier message by key, and the indexes erasure (by chat) and retention (by
age) need.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DONE = "status IN ('sent', 'dead', 'dropped', 'collapsed')"


def upgrade() -> None:
    op.add_column("outbox", sa.Column("sent_message_id", sa.BigInteger, nullable=True))
    op.add_column("outbox", sa.Column("edit_of", sa.Text, nullable=True))
    op.create_index("outbox_chat_idx", "outbox", ["community_id", "chat_id"])
    op.create_index("outbox_done_idx", "outbox", ["created_at"], postgresql_where=sa.text(_DONE))
    op.create_index("dead_letters_created_idx", "dead_letters", ["created_at"])
    op.create_index("dead_letters_chat_idx", "dead_letters", ["community_id", "chat_id"])


def downgrade() -> None:
    op.drop_index("dead_letters_chat_idx", "dead_letters")
    op.drop_index("dead_letters_created_idx", "dead_letters")
    op.drop_index("outbox_done_idx", "outbox")
    op.drop_index("outbox_chat_idx", "outbox")
    op.drop_column("outbox", "edit_of")
    op.drop_column("outbox", "sent_message_id")
