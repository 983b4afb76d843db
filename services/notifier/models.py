"""Tables of the ``notifier`` schema: the durable outbox of Bot API calls.

A message's ``status`` moves ``queued`` → ``sending`` (leased by one worker until
``lease_until``) → ``sent``; or → ``dead`` (a copy with Telegram's answer goes to
``dead_letters``), ``dropped`` (the chat blocked the bot) or ``collapsed`` (a newer
message with the same collapse key replaced it before it was sent).

Sealed (0005, veil/core/sealing.py): no chat id is stored in clear. A message is
found per chat by ``chat_key``, the keyed hash of (community, chat id); its
recipient and parameters are ``sealed`` (an envelope under a fresh data key
wrapped by the master key) until it is sent, and emptied once it is finished.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

SCHEMA = "notifier"
metadata = MetaData(schema=SCHEMA)

# Priorities a message can be weightier than another with: all but the lowest,
# background (3). The outbox indexes such messages with a collapse key
# (``outbox_weighty_idx``); the statements that look for them name this bound.
WEIGHTY_BELOW = 3

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("community_id", BigInteger, nullable=False),
    # Keyed hash of (community, chat id): per-chat order, 403s and erasure.
    Column("chat_key", LargeBinary, nullable=False),
    Column("method", Text, nullable=False),
    # {"c": chat id, "p": params} sealed; NULL once sent, dropped, dead or collapsed.
    Column("sealed", LargeBinary, nullable=True),
    Column("priority", SmallInteger, nullable=False),
    Column("idempotency_key", Text, nullable=False, unique=True),
    Column("collapse_key", Text, nullable=True),
    Column("not_before", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("status", Text, nullable=False, server_default="queued"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # 0002: delivery state.
    Column("retry_at", DateTime(timezone=True), nullable=True),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("leased_by", Text, nullable=True),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("reason", Text, nullable=True),
    Column("trace_context", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    # 0003: the message id Telegram gave a sent message, and for a call that
    # edits an earlier message of the chat, that message's idempotency key.
    Column("sent_message_id", BigInteger, nullable=True),
    Column("edit_of", Text, nullable=True),
    # 0004: a send that may have reached Telegram unrecorded (a card or a post):
    # the chat's highest known message id when it left; its copy would be above.
    Column("unsure_after", BigInteger, nullable=True),
    # 0004: a sent channel post whose id the confessions service has not stored yet.
    Column("unreported", Boolean, nullable=False, server_default=false()),
    # 0003: erasure finds a member's messages by chat; retention prunes by age.
    Index("outbox_chat_idx", "community_id", "chat_key"),
    Index(
        "outbox_done_idx",
        "created_at",
        postgresql_where=text("status IN ('sent', 'dead', 'dropped', 'collapsed')"),
    ),
    Index(
        "outbox_queued_idx",
        "community_id",
        "priority",
        "id",
        postgresql_where=text("status = 'queued'"),
    ),
    Index(
        "outbox_pending_chat_idx",
        "community_id",
        "chat_key",
        "priority",
        "id",
        postgresql_where=text("status IN ('queued', 'sending')"),
    ),
    Index(
        "outbox_collapse_idx",
        "collapse_key",
        postgresql_where=text("status = 'queued' AND collapse_key IS NOT NULL"),
    ),
    Index("outbox_unreported_idx", "sent_at", postgresql_where=text("unreported")),
    # 0007: the messages a lesser one with their collapse key must not undo,
    # whether still queued or already sent (an erasure's edit of a channel post).
    Index(
        "outbox_weighty_idx",
        "collapse_key",
        "community_id",
        postgresql_where=text(f"collapse_key IS NOT NULL AND priority < {WEIGHTY_BELOW}"),
    ),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("outbox_id", BigInteger, primary_key=True),
    Column("community_id", BigInteger, nullable=False),
    Column("chat_key", LargeBinary, nullable=False),
    Column("method", Text, nullable=False),
    # The call's parameters without its recipient (no "chat_id").
    Column("params", JSONB, nullable=False),
    Column("error_code", Integer, nullable=False),
    Column("description", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("dead_letters_created_idx", "created_at"),
    Index("dead_letters_chat_idx", "community_id", "chat_key"),
)

community_limits = Table(
    "community_limits",
    metadata,
    Column("community_id", BigInteger, primary_key=True),
    Column("per_second", Float, nullable=True),
    Column("per_private_chat_per_second", Float, nullable=True),
    Column("per_group_per_minute", Float, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Key-check values of the master keys and the lookup key (veil/core/sealing.py).
seal_keys = Table(
    "seal_keys",
    metadata,
    Column("key_id", Text, primary_key=True),
    Column("check_value", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # No data under this key any more (``veil keys rotate``): it may leave the
    # settings, but its check value stays, so the id cannot come back as another key.
    Column("retired", Boolean, nullable=False, server_default=false()),
)
