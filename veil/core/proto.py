"""Small conversions between Python values and protobuf messages."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.timestamp_pb2 import Timestamp


def timestamp(value: datetime) -> Timestamp:
    """A protobuf Timestamp of an aware datetime."""
    result = Timestamp()
    result.FromDatetime(value)
    return result


def page_bounds(
    limit: int, offset: int, *, default: int = 10, maximum: int = 100
) -> tuple[int, int]:
    """Clamp a requested page to sane bounds: (limit, offset)."""
    if limit <= 0:
        limit = default
    return min(limit, maximum), max(offset, 0)
