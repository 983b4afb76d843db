"""Tables of the ``confessions`` schema (SQLAlchemy Core; Alembic mirrors them)."""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)

from veil.contracts.lengths import CONFESSION_MAX_LENGTH
from veil.core.relay import relay_table

SCHEMA = "confessions"
metadata = MetaData(schema=SCHEMA)

STATUSES = ("pending", "approved", "rejected", "published", "deleted")

communities = Table(
    "communities",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("bot_id", BigInteger, nullable=False, unique=True),
    # The bot token, sealed (0007): an envelope bound to bot_id (services/confessions/sealed.py).
    Column("sealed_token", LargeBinary, nullable=False),
    Column("bot_username", Text, nullable=False),
    Column("channel_chat_id", BigInteger, nullable=False),
    Column("admin_chat_id", BigInteger, nullable=False),
    Column("title", Text, nullable=False),
    # Last confession number handed out; "#N" is gap-free per community.
    Column("last_number", BigInteger, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # What /deleteme does to a member's channel posts: 'replace' (edit to
    # "[deleted]", the numbering stays readable) or 'delete'.
    Column("erased_posts", Text, nullable=False, server_default="replace"),
    CheckConstraint("erased_posts IN ('replace', 'delete')", name="communities_erased_posts_check"),
)

# No Telegram id in clear (0007, services/confessions/sealed.py): a member is
# found by ``lookup``, the keyed hash of (community, Telegram user id); where
# notices go is ``chat``, sealed under the member's own ``data_key`` (wrapped by
# the master key), which the row's deletion destroys. Never returned by the API.
members = Table(
    "members",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("community_id", BigInteger, ForeignKey(communities.c.id), nullable=False),
    Column("lookup", LargeBinary, nullable=False),
    Column("data_key", LargeBinary, nullable=False),
    Column("chat", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Optional notices (new comments, replies) are skipped when false.
    Column("notifications_enabled", Boolean, nullable=False, server_default="true"),
    # Set when the bot got a 403 (blocked); cleared when the member writes again.
    Column("unreachable_since", DateTime(timezone=True), nullable=True),
    # Profile counters, updated as events happen (never recounted for /me).
    Column("confessions_sent", Integer, nullable=False, server_default="0"),
    Column("confessions_approved", Integer, nullable=False, server_default="0"),
    Column("comments_written", Integer, nullable=False, server_default="0"),
    Column("reactions_received", Integer, nullable=False, server_default="0"),
    UniqueConstraint("community_id", "lookup", name="members_community_lookup_key"),
)

confessions = Table(
    "confessions",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("community_id", BigInteger, ForeignKey(communities.c.id), nullable=False),
    Column("number", BigInteger, nullable=False),
    # NULL once the author erased their data (/deleteme).
    Column("member_id", BigInteger, ForeignKey(members.c.id), nullable=True),
    Column("text", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("idempotency_key", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Moderation (0002): who decided (an admin's first name: admins see each
    # other) and how (approve, reject, ban), the reason told to the author,
    # the channel post, the word that flagged it for review, and the media
    # re-sent by file_id.
    Column("moderated_by", Text),
    Column("decision", Text),
    Column("moderated_at", DateTime(timezone=True)),
    Column("reject_reason", Text),
    Column("channel_message_id", BigInteger),
    Column("flagged_word", Text),
    # What the doxxing guard found and left in (rule flag): "a phone number" (0006).
    Column("pii_found", Text),
    Column("media_kind", Text),
    Column("file_id", Text),
    # Sent while its author was shadow-banned (0006): the card says so.
    Column("author_shadowed", Boolean, nullable=False, server_default="false"),
    # Taken down by the admins after reports (0009): a retried take-down queues
    # the post's deletion again; an erasure's 'deleted' leaves it unset.
    Column("taken_down_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("community_id", "number", name="confessions_community_number_key"),
    UniqueConstraint("community_id", "idempotency_key", name="confessions_idempotency_key"),
    CheckConstraint(
        "status IN ('pending', 'approved', 'rejected', 'published', 'deleted')",
        name="confessions_status_check",
    ),
    Index("confessions_member_idx", "member_id", "id"),
    Index("confessions_member_status_idx", "member_id", "status"),
)

# One row per ban (0004): bans are listed and lifted one by one, never per
# member. A ban names its target by ``subject`` only, the keyed token of
# (community, Telegram user) of veil.core.hashing.subject_token, so that it
# outlives the member's /deleteme and holds on a member who joins again.
# ``member_id`` is set only on bans made before 0004, until the service adopts
# them at start (it computes their subject) or the member is erased.
bans = Table(
    "bans",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("community_id", BigInteger, ForeignKey(communities.c.id), nullable=False),
    Column("subject", Text, nullable=True),
    Column("member_id", BigInteger, ForeignKey(members.c.id), nullable=True),
    Column("label", Text, nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # A shadow ban (0006): the member may still write, unaware; their comments
    # are shown to them only and their confessions are marked on the card.
    Column("shadow", Boolean, nullable=False, server_default="false"),
    Index("bans_subject_idx", "community_id", "subject"),
    Index("bans_label_idx", "community_id", func.lower(text("label"))),
)

FILTER_ACTIONS = ("flag", "reject")

# A community's rules; a community without a row has the defaults.
community_rules = Table(
    "community_rules",
    metadata,
    Column("community_id", BigInteger, ForeignKey(communities.c.id), primary_key=True),
    Column("cooldown_seconds", Integer, nullable=False, server_default="0"),
    Column("daily_cap", Integer, nullable=False, server_default="0"),
    Column("max_length", Integer, nullable=False, server_default=str(CONFESSION_MAX_LENGTH)),
    Column("filter_words", ARRAY(Text), nullable=False, server_default="{}"),
    Column("filter_action", Text, nullable=False, server_default="flag"),
    Column("reject_reasons", ARRAY(Text)),
    Column("publish_interval_minutes", Integer, nullable=False, server_default="0"),
    # With a publishing interval: the earliest moment of the next channel post.
    Column("next_publish_at", DateTime(timezone=True)),
    # Trust and safety (0006, services/confessions/safety_rules.py).
    Column("pii_action", Text, nullable=False, server_default="flag"),
    Column("filter_comments", Boolean, nullable=False, server_default="true"),
    # Hundredths of a full report; NULL: the deployment's VEIL_REPORT_THRESHOLD.
    Column("report_threshold", Integer, nullable=True),
    Column("link_previews", Boolean, nullable=False, server_default="false"),
    CheckConstraint("filter_action IN ('flag', 'reject')", name="community_rules_filter_check"),
    CheckConstraint("pii_action IN ('flag', 'redact', 'reject')", name="community_rules_pii_check"),
)

# Events already counted on a member's profile (RecordMemberActivity is
# idempotent on the event key; the key is stored as a digest, so it names no
# other member).
member_events = Table(
    "member_events",
    metadata,
    Column("member_id", BigInteger, ForeignKey(members.c.id, ondelete="CASCADE"), primary_key=True),
    Column("event_key", Text, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Retention prunes by age (0004).
    Index("member_events_created_idx", "created_at"),
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

# One row per warn (0006), by protected subject like bans: listed and removed
# one by one, never per member. A warn counts until ``expires_at``.
warns = Table(
    "warns",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("community_id", BigInteger, ForeignKey(communities.c.id), nullable=False),
    Column("subject", Text, nullable=False),
    Column("label", Text, nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    # The admin's command or press (a retried one makes one warn).
    Column("idempotency_key", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("community_id", "idempotency_key", name="warns_idempotency_key"),
    Index("warns_subject_idx", "community_id", "subject", "expires_at"),
)

# A community's warn rules (0006); a community without a row has the defaults.
safety_rules = Table(
    "safety_rules",
    metadata,
    Column("community_id", BigInteger, ForeignKey(communities.c.id), primary_key=True),
    Column("warn_expiry_seconds", Integer, nullable=False, server_default="2592000"),
    Column("warn_limit", Integer, nullable=False, server_default="3"),
    Column("warn_ban_seconds", Integer, nullable=False, server_default="604800"),
)

# A member's conversations with the admins (0006). Admins know one by its id
# only ("Guest 17"); the member by ``member_id`` (deliveries join the member
# row, so no Telegram id is stored here; NULL once they erased themselves) and
# ``subject`` (a block outlives /deleteme). No message text is kept.
CONVERSATION_STATUSES = ("open", "closed", "blocked")
conversations = Table(
    "conversations",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("community_id", BigInteger, ForeignKey(communities.c.id), nullable=False),
    Column("member_id", BigInteger, ForeignKey(members.c.id, ondelete="SET NULL")),
    Column("subject", Text, nullable=False),
    Column("status", Text, nullable=False, server_default="open"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("status IN ('open', 'closed', 'blocked')", name="conversations_status_check"),
    # One open conversation per member.
    Index(
        "conversations_open_idx",
        "community_id",
        "member_id",
        unique=True,
        postgresql_where=text("status = 'open'"),
    ),
    Index("conversations_subject_idx", "community_id", "subject"),
)

# Calls to the notifier waiting for the relay (veil/core/relay.py, 0011): each
# submission's card, sent on in batches.
relay = relay_table(metadata)
