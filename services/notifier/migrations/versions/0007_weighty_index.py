"""An index of the messages a lesser one with their collapse key must not undo.

A comment counter's edit of a channel post (background) that arrives after an
erasure's "[deleted]" edit or a take-down's deletion of that post (weightier)
is dropped, whether the weightier one is still queued or already sent: sent
and then undone, it would put the post's "💬 Comments" button back. Enqueue
looks for such a message by collapse key among the weighty ones (priority
above background), which this partial index holds.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Background (3) is the lowest priority: nothing is lesser than it.
_WEIGHTY = "collapse_key IS NOT NULL AND priority < 3"


def upgrade() -> None:
    op.create_index(
        "outbox_weighty_idx",
        "outbox",
        ["collapse_key", "community_id"],
        postgresql_where=sa.text(_WEIGHTY),
    )


def downgrade() -> None:
    op.drop_index("outbox_weighty_idx", table_name="outbox")
