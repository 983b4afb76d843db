"""Row types and message statuses of the ``notifier`` schema (shared by the repository's parts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Status of a message (see models.py).
QUEUED, SENDING, SENT, DEAD, DROPPED, COLLAPSED = (
    "queued",
    "sending",
    "sent",
    "dead",
    "dropped",
    "collapsed",
)

# A message that was queued, is being sent or was sent: still the last word of
# its collapse key, which a lesser message coming after it must not undo.
STANDING = (QUEUED, SENDING, SENT)


@dataclass(frozen=True)
class NewMessage:
    """One Bot API call to queue."""

    community_id: int
    chat_id: int
    method: str
    params: dict[str, Any]
    priority: int
    idempotency_key: str
    collapse_key: str | None
    not_before: datetime | None
    trace_context: dict[str, str] | None = None
    edit_of: str | None = None


@dataclass(frozen=True)
class QueueStatRow:
    """Depth and oldest age of one (community, priority) queue."""

    community_id: int
    priority: int
    depth: int
    oldest_age_seconds: float


@dataclass(frozen=True)
class StatusCountRow:
    """How many messages of a community are in one status."""

    community_id: int
    status: str
    count: int


@dataclass(frozen=True)
class DeadLetterStatRow:
    """Dead letters of one community with one Telegram answer."""

    community_id: int
    error_code: int
    description: str
    count: int
    latest: datetime


@dataclass(frozen=True)
class ClaimedMessage:
    """A message leased to one worker for sending."""

    id: int
    community_id: int
    chat_id: int
    method: str
    params: dict[str, Any]
    priority: int
    attempts: int
    trace_context: dict[str, str]
    idempotency_key: str = ""
    # A call that edits an earlier message: that message's key, and the id
    # Telegram gave it (None: it was never sent, so there is nothing to edit).
    edit_of: str | None = None
    edit_target: int | None = None
    # An earlier attempt may have reached Telegram unrecorded: the chat's highest
    # known message id when it left (see worker/reconcile.py); None: none did.
    unsure_after: int | None = None


@dataclass(frozen=True)
class UnreportedPost:
    """A sent channel post the confessions service has not stored the id of."""

    id: int
    community_id: int
    idempotency_key: str
    message_id: int


@dataclass(frozen=True)
class LimitsRow:
    """A community's stored limits; None means the default."""

    community_id: int
    per_second: float | None
    per_private_chat_per_second: float | None
    per_group_per_minute: float | None
