"""How a button's data is packed: ``prefix:value:value…``, within Telegram's 64 bytes.

Each button (:mod:`veil.contracts.callbacks`) is a frozen dataclass over
:class:`Callback`: ``pack()`` writes the prefix and the values in field order (the
names never travel, so they cost nothing on the wire) and ``unpack()`` reads it
back, refusing anything else with ``ValueError``.

A tiny packer of our own rather than aiogram's ``CallbackData``: importing
aiogram costs a service seconds of start-up CPU and a large import graph for
three string joins; the gateway plugs these classes into aiogram with
``services.gateway.filters.Pressed``. The wire format is aiogram's, so
buttons already sent keep working.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, ClassVar, Self, get_type_hints

from veil.contracts.lengths import CALLBACK_DATA_LIMIT

SEPARATOR = ":"
# The largest id or number a field carries (a Postgres bigint).
MAX_ID = 2**63 - 1
# The largest thread page a button names (five comments a page: far beyond any thread).
MAX_PAGE = 10**12 - 1

# A memo of each class's fields (type hints are slow to read on every press).
_FIELDS: dict[type, tuple[tuple[str, Any], ...]] = {}


@dataclass(frozen=True)
class Callback:
    """Base of every button's data: a prefix, then typed fields (int, str or a StrEnum)."""

    prefix: ClassVar[str]

    def pack(self) -> str:
        """``prefix:value:…``; ValueError when a value holds ``:`` or the whole exceeds 64 bytes."""
        # A thread page packs some thirty buttons per answer: ints (most values)
        # skip the encoder and the separator check, since their digits never hold ":".
        parts = [self.prefix]
        for name, _ in _fields(type(self)):
            value = getattr(self, name)
            if type(value) is int:
                parts.append(str(value))
                continue
            text = _encode(value)
            if SEPARATOR in text:
                raise ValueError(f"{SEPARATOR!r} inside a value of {type(self).__name__}")
            parts.append(text)
        data = SEPARATOR.join(parts)
        if len(data.encode()) > CALLBACK_DATA_LIMIT:
            raise ValueError(
                f"{type(self).__name__} packs to more than {CALLBACK_DATA_LIMIT} bytes"
            )
        return data

    @classmethod
    def unpack(cls, data: str) -> Self:
        """The button behind ``data``; ValueError unless it is this button's, well formed."""
        prefix, *values = data.split(SEPARATOR)
        names = _fields(cls)
        if prefix != cls.prefix or len(values) != len(names):
            raise ValueError(f"not {cls.__name__} data")
        decoded = zip(names, values, strict=True)
        return cls(**{name: _decode(kind, value) for (name, kind), value in decoded})


def _fields(cls: type[Callback]) -> tuple[tuple[str, Any], ...]:
    """(name, type) of each packed field, in order (read once per class)."""
    known = _FIELDS.get(cls)
    if known is None:
        hints = get_type_hints(cls)
        known = _FIELDS[cls] = tuple((field.name, hints[field.name]) for field in fields(cls))
    return known


def _encode(value: object) -> str:
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, bool):
        raise TypeError("booleans are not packed")
    return str(value)


def _decode(kind: Any, value: str) -> object:
    if kind is int:
        # int() would take "+1", " 1" or "1_0": only the digits pack() writes.
        if not value.removeprefix("-").isdigit() or not value.isascii():
            raise ValueError(f"not an integer: {value!r}")
        return int(value)
    if kind is str:
        return value
    return kind(value)  # a StrEnum: ValueError for an unknown member
