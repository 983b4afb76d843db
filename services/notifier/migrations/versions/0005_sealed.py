"""Sealed recipients: no chat id in clear in the notifier schema.

After 0004 (unsure sends): ``unsure_after`` and ``unreported`` are kept as they are.

``outbox.chat_id`` becomes ``chat_key`` (keyed hash of (community, chat id)),
``params`` becomes ``sealed`` (recipient and parameters in one envelope, kept
only until the message is finished); dead letters keep their parameters without
the recipient; ``unreachable_chats`` keeps the keyed hash and whether the chat is
private. Needs VEIL_SEAL_MASTER_KEYS and VEIL_SEAL_LOOKUP_KEY. Downgrade refuses.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
import sqlalchemy as sa
from alembic import op

from services.notifier.recipients import chat_key, seal_call, without_recipient
from veil.core.sealing import migration_keyring, record_keys, refuse_downgrade

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 2000
_PENDING = ("queued", "sending")


def _json(value: object) -> dict[str, object]:
    if isinstance(value, str | bytes):
        value = orjson.loads(value)
    return dict(value) if isinstance(value, dict) else {}


def upgrade() -> None:
    keys = migration_keyring()
    bind = op.get_bind()
    op.create_table(
        "seal_keys",
        sa.Column("key_id", sa.Text, primary_key=True),
        sa.Column("check_value", sa.LargeBinary, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("retired", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    record_keys(bind, keys)
    op.add_column("outbox", sa.Column("chat_key", sa.LargeBinary, nullable=True))
    op.add_column("outbox", sa.Column("sealed", sa.LargeBinary, nullable=True))
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT id, community_id, chat_id, params, status, idempotency_key FROM outbox "
                "WHERE id > :last ORDER BY id LIMIT :n"
            ),
            {"last": last, "n": _BATCH},
        ).all()
        if not rows:
            break
        last = rows[-1].id
        bind.execute(
            sa.text("UPDATE outbox SET chat_key = :k, sealed = :s WHERE id = :id"),
            [
                {
                    "id": r.id,
                    "k": chat_key(keys, r.community_id, r.chat_id),
                    # A finished message keeps no recipient.
                    "s": seal_call(keys, r.idempotency_key, r.chat_id, _json(r.params))
                    if r.status in _PENDING
                    else None,
                }
                for r in rows
            ],
        )
    op.alter_column("outbox", "chat_key", nullable=False)
    op.drop_index("outbox_chat_idx", "outbox")
    op.drop_index("outbox_pending_chat_idx", "outbox")
    op.drop_column("outbox", "chat_id")
    op.drop_column("outbox", "params")
    op.create_index("outbox_chat_idx", "outbox", ["community_id", "chat_key"])
    op.create_index(
        "outbox_pending_chat_idx",
        "outbox",
        ["community_id", "chat_key", "priority", "id"],
        postgresql_where=sa.text("status IN ('queued', 'sending')"),
    )

    op.add_column("dead_letters", sa.Column("chat_key", sa.LargeBinary, nullable=True))
    letters = bind.execute(
        sa.text("SELECT outbox_id, community_id, chat_id, params FROM dead_letters")
    ).all()
    if letters:
        bind.execute(
            sa.text(
                "UPDATE dead_letters SET chat_key = :k, params = CAST(:p AS jsonb) "
                "WHERE outbox_id = :id"
            ),
            [
                {
                    "id": r.outbox_id,
                    "k": chat_key(keys, r.community_id, r.chat_id),
                    "p": orjson.dumps(without_recipient(_json(r.params))).decode(),
                }
                for r in letters
            ],
        )
    op.alter_column("dead_letters", "chat_key", nullable=False)
    op.drop_index("dead_letters_chat_idx", "dead_letters")
    op.drop_column("dead_letters", "chat_id")
    op.create_index("dead_letters_chat_idx", "dead_letters", ["community_id", "chat_key"])

    op.add_column("unreachable_chats", sa.Column("chat_key", sa.LargeBinary, nullable=True))
    op.add_column("unreachable_chats", sa.Column("private_chat", sa.Boolean, nullable=True))
    marks = bind.execute(sa.text("SELECT community_id, chat_id FROM unreachable_chats")).all()
    if marks:
        bind.execute(
            sa.text(
                "UPDATE unreachable_chats SET chat_key = :k, private_chat = :p "
                "WHERE community_id = :c AND chat_id = :chat"
            ),
            [
                {
                    "c": r.community_id,
                    "chat": r.chat_id,
                    "k": chat_key(keys, r.community_id, r.chat_id),
                    "p": r.chat_id > 0,
                }
                for r in marks
            ],
        )
    op.alter_column("unreachable_chats", "chat_key", nullable=False)
    op.alter_column("unreachable_chats", "private_chat", nullable=False)
    op.drop_constraint("unreachable_chats_pkey", "unreachable_chats")
    op.drop_column("unreachable_chats", "chat_id")
    op.create_primary_key(
        "unreachable_chats_pkey", "unreachable_chats", ["community_id", "chat_key"]
    )


def downgrade() -> None:
    refuse_downgrade("notifier", revision)
