"""Sealed members: no Telegram id in clear in the confessions schema.

``members.telegram_user_id`` becomes ``lookup`` (keyed hash of (community,
Telegram user id)), ``data_key`` (the member's own data key, wrapped by the
master key) and ``chat`` (the private chat id sealed under that data key); bot
tokens in ``communities`` become envelopes. Needs VEIL_SEAL_MASTER_KEYS and
VEIL_SEAL_LOOKUP_KEY. Downgrade refuses (it would unseal).

Bans made before 0004 that still name a member keep their ``member_id``: the
service adopts them at start by opening the member's sealed chat id.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.confessions.sealed import MemberSeal
from veil.core.sealing import migration_keyring, record_keys, refuse_downgrade

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 2000


def upgrade() -> None:
    seal = MemberSeal(migration_keyring())
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
    record_keys(bind, seal.keys)
    for column in ("lookup", "data_key", "chat"):
        op.add_column("members", sa.Column(column, sa.LargeBinary, nullable=True))
    last = 0
    while True:
        rows = bind.execute(
            sa.text(
                "SELECT id, community_id, telegram_user_id FROM members "
                "WHERE id > :last ORDER BY id LIMIT :n"
            ),
            {"last": last, "n": _BATCH},
        ).all()
        if not rows:
            break
        last = rows[-1].id
        bind.execute(
            sa.text(
                "UPDATE members SET lookup = :lookup, data_key = :data_key, chat = :chat "
                "WHERE id = :id"
            ),
            [{"id": r.id, **seal.new_member(r.community_id, r.telegram_user_id)} for r in rows],
        )
    for column in ("lookup", "data_key", "chat"):
        op.alter_column("members", column, nullable=False)
    op.drop_constraint("members_community_user_key", "members")
    op.drop_column("members", "telegram_user_id")
    op.create_unique_constraint(
        "members_community_lookup_key", "members", ["community_id", "lookup"]
    )

    op.add_column("communities", sa.Column("sealed_token", sa.LargeBinary, nullable=True))
    tokens = bind.execute(sa.text("SELECT id, bot_id, bot_token FROM communities")).all()
    if tokens:
        bind.execute(
            sa.text("UPDATE communities SET sealed_token = :t WHERE id = :id"),
            [{"id": r.id, "t": seal.seal_token(r.bot_id, r.bot_token)} for r in tokens],
        )
    op.alter_column("communities", "sealed_token", nullable=False)
    op.drop_column("communities", "bot_token")


def downgrade() -> None:
    refuse_downgrade("confessions", revision)
