"""Tables of the ``social`` schema."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)

from veil.core.relay import relay_table

SCHEMA = "social"
metadata = MetaData(schema=SCHEMA)

# confession_id and member_id refer to the confessions service's ids; no
# foreign keys cross schemas, each service owns only its own tables.
comments = Table(
    "comments",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("community_id", BigInteger, nullable=False),
    Column("confession_id", BigInteger, nullable=False),
    Column("parent_id", BigInteger, nullable=True),
    Column("member_id", BigInteger, nullable=False),
    Column("pseudonym", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("likes", Integer, nullable=False, server_default="0"),
    Column("dislikes", Integer, nullable=False, server_default="0"),
    Column("idempotency_key", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # visible | hidden (reports reached the threshold) | deleted (by its writer or an admin)
    Column("status", Text, nullable=False, server_default="visible"),
    Column("reports", Integer, nullable=False, server_default="0"),
    Column("by_author", Boolean, nullable=False, server_default="false"),
    # Counts every change of a reaction to it (0004): names each change, so the
    # writer's "reactions received" counts each one once (like, unlike, like again).
    Column("reaction_changes", Integer, nullable=False, server_default="0"),
    # The weighted sum of its reports, in hundredths of a full report (0006,
    # services/social/reporting.py); set back to 0 when an admin restores it.
    Column("report_weight", Integer, nullable=False, server_default="0"),
    # What the doxxing guard or the word filter flagged: a card went to the admins.
    Column("flagged", Text, nullable=True),
    UniqueConstraint("community_id", "idempotency_key", name="comments_idempotency_key"),
    Index("comments_thread_idx", "confession_id", "id"),
    # A ban by pseudonym looks the writer up (migration 0003).
    Index("comments_pseudonym_idx", "community_id", func.lower(text("pseudonym"))),
    # A member's comments (0002): erasure, a reporter's "comments not hidden".
    Index("comments_member_idx", "community_id", "member_id"),
)

# One reaction per protected subject per comment: +1 (👍) or -1 (👎). The subject
# (the keyed token of community and Telegram user, Member.subject) outlives the
# member's /deleteme, so a member who joins again cannot react twice; member_id
# marks the viewer's own reaction and is 0 once its member erased themselves.
# Rows made before 0004 have the subject "m:<member id>".
reactions = Table(
    "reactions",
    metadata,
    Column("comment_id", BigInteger, primary_key=True),
    Column("subject", Text, primary_key=True),
    Column("member_id", BigInteger, nullable=False),
    Column("value", SmallInteger, nullable=False),
    Index("reactions_member_idx", "member_id"),
)

# One report per protected subject per comment, kept across /deleteme (0004):
# a report names no member.
reports = Table(
    "reports",
    metadata,
    Column("comment_id", BigInteger, primary_key=True),
    Column("subject", Text, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Trust-weighted reports (0006): the weight it counted with (hundredths),
    # the reason picked, and what the admins made of it: upheld (the comment
    # was deleted) or restored. A reporter's record is read by subject.
    Column("weight", SmallInteger, nullable=False, server_default="100"),
    Column("reason", Text, nullable=False, server_default="other"),
    Column("outcome", Text, nullable=True),
    Index("reports_subject_idx", "subject"),
)

# Spacing of sends that must not come too often (a member's notifications about
# one thread, the edits of one channel post's counter): the next time a send
# may leave, and the batched send already scheduled, if any.
pacers = Table(
    "pacers",
    metadata,
    Column("key", Text, primary_key=True),
    Column("next_allowed", DateTime(timezone=True), nullable=False),
    Column("scheduled_at", DateTime(timezone=True), nullable=True),
    Column("pending", Integer, nullable=False, server_default="0"),
    # Retention prunes the ones long past (0004).
    Index("pacers_next_allowed_idx", "next_allowed"),
)

# What the social service knows of a thread it holds comments for (0005): its
# author's member id (from the gateway's ThreadContext) and whether the thread
# was closed, because its confession was withdrawn when the author erased their
# data. Reactions and reports are refused on a closed thread without asking the
# confessions service; a thread whose author is unknown (comments older than
# 0005) is still checked with it.
thread_states = Table(
    "thread_states",
    metadata,
    Column("confession_id", BigInteger, primary_key=True),
    Column("community_id", BigInteger, nullable=False),
    Column("author_member_id", BigInteger, nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Index("thread_states_author_idx", "community_id", "author_member_id"),
)

# Reports of confessions on the channel (0007): one per protected subject and
# confession, weighted like a comment's (services/social/reporting.py). Names no
# member; a card goes to the admins once the weights reach the threshold.
confession_reports = Table(
    "confession_reports",
    metadata,
    Column("confession_id", BigInteger, primary_key=True),
    Column("subject", Text, primary_key=True),
    Column("community_id", BigInteger, nullable=False),
    Column("weight", SmallInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # The admins' verdict (0008): upheld (taken down) or restored (kept). It
    # counts in its reporter's record like a comment report's outcome.
    Column("outcome", Text, nullable=True),
    Index("confession_reports_subject_idx", "subject"),
)


# Follow-ups to the confessions service waiting for the relay (veil/core/relay.py,
# 0009): a comment's notices and counter edit, a reaction's "reactions received".
relay = relay_table(metadata)
