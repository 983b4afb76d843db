"""How the notifier keeps a message's recipient: sealed until sent, then gone.

A queued call's chat id and parameters are one envelope (veil/core/sealing.py)
bound to the message's idempotency key, so a sealed call copied onto another row
does not open. Rows are found per chat by :func:`chat_key`, a keyed hash.
"""

from __future__ import annotations

from typing import Any

import orjson

from veil.core.sealing import Keyring, ad


def chat_key(keys: Keyring, community_id: int, chat_id: int) -> bytes:
    """The keyed hash a chat's messages, 403 mark and dead letters are found by."""
    return keys.lookup("chat", community_id, chat_id)


def _ad(idempotency_key: str) -> bytes:
    return ad("notifier.outbox.sealed", idempotency_key)


def seal_call(keys: Keyring, idempotency_key: str, chat_id: int, params: dict[str, Any]) -> bytes:
    """The sealed recipient and parameters of a queued call."""
    return keys.seal(orjson.dumps({"c": chat_id, "p": params}), _ad(idempotency_key))


def open_call(keys: Keyring, idempotency_key: str, sealed: bytes) -> tuple[int, dict[str, Any]]:
    """(chat id, parameters) of a sealed call; SealingError when it does not open."""
    call = orjson.loads(keys.open(sealed, _ad(idempotency_key)))
    return int(call["c"]), dict(call["p"])


def without_recipient(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as a finished row may keep them: no chat id."""
    return {k: v for k, v in params.items() if k != "chat_id"}


def is_private(chat_id: int) -> bool:
    """A member's private chat: Telegram gives them positive ids, groups and channels negative."""
    return chat_id > 0
