"""Small conversions between Python values and protobuf messages."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp(value: datetime) -> Timestamp:
    """A protobuf Timestamp of a datetime (a naive one is UTC, as protobuf takes it).

    Built from the difference to the epoch rather than ``FromDatetime``, which
    costs three times as much in protobuf's Python layer; a thread page makes
    one per comment.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - _EPOCH
    return Timestamp(seconds=delta.days * 86_400 + delta.seconds, nanos=delta.microseconds * 1_000)


def optional_time(message: Message, field: str) -> datetime | None:
    """An optional Timestamp field of ``message`` as an aware UTC datetime; None when unset."""
    if not message.HasField(field):
        return None
    stamp: Timestamp = getattr(message, field)
    return stamp.ToDatetime(tzinfo=UTC)


def page_bounds(
    limit: int, offset: int, *, default: int = 10, maximum: int = 100
) -> tuple[int, int]:
    """Clamp a requested page to sane bounds: (limit, offset)."""
    if limit <= 0:
        limit = default
    return min(limit, maximum), max(offset, 0)
