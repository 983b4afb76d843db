"""Telegram's entities of a member's text, as the services take them.

The gateway trims a member's text before passing it on; the entities' offsets
(UTF-16 code units) are moved by what the trim took off the front, and
entities that fall outside the trimmed text are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from aiogram.types import MessageEntity

from veil.core.pii import ENTITY_KINDS
from veil.core.telegram_text import utf16_len
from veil.v1 import common_pb2


def trimmed_entities(
    raw: str, entities: Sequence[MessageEntity] | None
) -> list[tuple[str, int, int]]:
    """(type, offset, length) of the personal-information entities of ``raw.strip()``."""
    shift = utf16_len(raw) - utf16_len(raw.lstrip())
    size = utf16_len(raw.strip())
    kept = []
    for entity in entities or ():
        if entity.type not in ENTITY_KINDS:
            continue
        offset = entity.offset - shift
        if offset < 0 or offset + entity.length > size:
            continue
        kept.append((str(entity.type), offset, entity.length))
    return kept


def as_proto(entities: Iterable[Sequence[Any]]) -> list[common_pb2.TextEntity]:
    """Stored (type, offset, length) triples as ``TextEntity`` messages."""
    return [
        common_pb2.TextEntity(type=str(kind), offset=int(offset), length=int(length))
        for kind, offset, length in entities
    ]
