"""Queueing Bot API calls: one statement for one message or a batch (enqueue_many.py)."""

from __future__ import annotations

from typing import Any

from services.notifier.recipients import (
    chat_key,
    seal_call,
)
from services.notifier.repository.base import RepositoryBase
from services.notifier.repository.enqueue_many import enqueue_many
from services.notifier.repository.rows import NewMessage
from veil.core.sealing import Keyring


class Enqueue(RepositoryBase):
    """Writes of new messages into the outbox."""

    async def enqueue(self, messages: list[NewMessage]) -> tuple[list[int], int]:
        """Queue messages in one statement; returns (ids in order, how many were new).

        A key repeated within the batch is one message, its first, as a retried
        call would be: every repeat gets its id.

        Whether the recipient blocked the bot is not the notifier's to know: the
        confessions service skips such members, and a 403 drops what is queued
        (see reachability.py). A new message with a collapse key collapses older
        *queued* (not leased) messages of the same community with that key,
        unless they are weightier (a lower priority number); one that finds a
        weightier message with its key queued, being sent or sent is stored
        collapsed (see enqueue_many.py).
        """
        first: dict[str, NewMessage] = {}
        for message in messages:
            first.setdefault(message.idempotency_key, message)
        # Sealing mints a nonce and an HMAC: once per message.
        ids, accepted = await enqueue_many(
            self._db, [_values(m, self._keys) for m in first.values()]
        )
        by_key = dict(zip(first, ids, strict=True))
        return [by_key[m.idempotency_key] for m in messages], accepted


def _values(message: NewMessage, keys: Keyring) -> dict[str, Any]:
    """The outbox columns of a new message: its recipient keyed and sealed."""
    values: dict[str, Any] = {
        "community_id": message.community_id,
        "chat_key": chat_key(keys, message.community_id, message.chat_id),
        "method": message.method,
        "sealed": seal_call(keys, message.idempotency_key, message.chat_id, message.params),
        "priority": message.priority,
        "idempotency_key": message.idempotency_key,
        "collapse_key": message.collapse_key,
        "trace_context": message.trace_context or {},
        "edit_of": message.edit_of,
    }
    if message.not_before is not None:
        values["not_before"] = message.not_before
    return values
