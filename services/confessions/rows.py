"""Row types of the confessions schema, shared by its repositories and use cases.

Pure data: no SQL, no gRPC. The repositories (``communities_repository``,
``members_repository``, ``confessions_repository`` and the statement modules
``registration``, ``submission``, ``decision``) return them; the servicers and
the outgoing calls read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class CommunityRow:
    """A community as stored."""

    id: int
    bot_id: int
    bot_token: str
    bot_username: str
    channel_chat_id: int
    admin_chat_id: int
    title: str
    created_at: datetime


@dataclass(frozen=True)
class ConfessionRow:
    """A confession as its author may see it (no member identity)."""

    id: int
    number: int
    community_id: int
    text: str
    status: str
    created_at: datetime
    media_kind: str | None = None
    file_id: str | None = None

    @classmethod
    def of(cls, row: Any, prefix: str = "") -> ConfessionRow:
        """The confession in a result row (its columns named ``prefix`` + field)."""
        return cls(**{name: row[prefix + name] for name in cls.__dataclass_fields__})

    @property
    def media(self) -> tuple[str, str] | None:
        """(kind, file_id) of a media confession."""
        if self.media_kind is None or self.file_id is None:
            return None
        return self.media_kind, self.file_id


@dataclass(frozen=True)
class BanRow:
    """A ban in force (one of possibly several of one subject)."""

    id: int
    label: str
    reason: str
    until: datetime | None
    created_at: datetime
    # A shadow ban (the member is not told and may still write).
    shadow: bool = False


@dataclass(frozen=True)
class Decision:
    """The outcome of a moderation attempt: who decided what, and whom to tell."""

    won: bool
    confession: ConfessionRow
    moderator: str
    # approve, reject or ban ("" while pending).
    decision: str
    reason: str
    member_id: int
    author_telegram_id: int
    # With a publishing interval: the moment the channel post may leave.
    publish_at: datetime | None = None


@dataclass(frozen=True)
class Submission:
    """A stored confession with the author's history for the admins' card."""

    confession: ConfessionRow
    created: bool
    approved: int
    rejected: int
    flagged_word: str | None
    # What the doxxing guard found and left in (rule flag), e.g. "a phone number".
    pii_found: str | None = None
    # Sent while its author was shadow-banned: the card says so.
    shadowed: bool = False


@dataclass(frozen=True)
class MemberRow:
    """A member as RegisterMember sees it (for the gateway; no Telegram id)."""

    id: int
    created: bool
    notifications_enabled: bool
    unreachable: bool
    # The member's ban in force, if any.
    ban: BanRow | None = None
    # A report's weight reads these (issue 16).
    joined_at: datetime | None = None
    confessions_approved: int = 0
    # A shadow ban in force (not a ban: the member may act, unaware).
    shadowed: bool = False


@dataclass(frozen=True)
class Recipient:
    """Where a notice to a member goes, and whether it may."""

    telegram_user_id: int
    notifications_enabled: bool
    unreachable: bool


@dataclass(frozen=True)
class ProfileRow:
    """A member's own counters."""

    confessions_sent: int
    confessions_approved: int
    comments_written: int
    reactions_received: int
    notifications_enabled: bool
    created_at: datetime


@dataclass(frozen=True)
class ErasedPost:
    """A published confession whose channel post the erasure must change."""

    confession_id: int
    number: int
    channel_message_id: int
    # A photo, voice note or video post cannot become "[deleted]" text.
    has_media: bool = False


@dataclass(frozen=True)
class ErasedCard:
    """A confession whose card in the admin chat the erasure withdraws."""

    confession_id: int
    number: int
    has_media: bool = False


@dataclass(frozen=True)
class Erasure:
    """What erasing one member touches, known before it is committed."""

    member_id: int
    channel_chat_id: int
    # 'replace' (edit the post to "[deleted]") or 'delete'.
    erased_posts: str
    posts: list[ErasedPost]
    admin_chat_id: int = 0
    cards: list[ErasedCard] = field(default_factory=list)
    # Their conversations with the admins: what they wrote there is deleted too.
    conversations: list[int] = field(default_factory=list)
