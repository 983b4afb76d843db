"""Timestamps built from datetimes: the same as protobuf's own conversion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from veil.core.proto import timestamp


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 12, 5, 11, 10, 26, 123456, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),  # before the epoch
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=-7, minutes=-30))),
        datetime(2040, 2, 29, 12, 0, 0, 1),  # naive: taken as UTC
    ],
)
def test_a_timestamp_is_protobufs_own(value: datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(value)
    assert timestamp(value) == expected
    assert timestamp(value).ToDatetime(tzinfo=UTC) == (
        value if value.tzinfo else value.replace(tzinfo=UTC)
    )
