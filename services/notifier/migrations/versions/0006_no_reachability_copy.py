"""The notifier keeps no copy of who blocked the bot.

Whether a member blocked the bot is the confessions service's fact
(``confessions.members.unreachable_since``, set by the worker's ``MarkUnreachable``
and cleared when the member writes again). ``unreachable_chats`` was a second copy
kept in step both ways; it goes. A 403 still drops what is queued for its chat
(services/notifier/repository/reachability.py). The marks of groups and channels
that removed the bot go with it: a message to such a chat is tried once and
dropped on its 403.

A downgrade brings the table back empty (the marks are in confessions).

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
    op.drop_table("unreachable_chats")


def downgrade() -> None:
    op.create_table(
        "unreachable_chats",
        sa.Column("community_id", sa.BigInteger, nullable=False),
        sa.Column("chat_key", sa.LargeBinary, nullable=False),
        sa.Column("private_chat", sa.Boolean, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column(
            "since", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("community_id", "chat_key"),
    )
