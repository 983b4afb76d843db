"""Helpers for tests that look at sealed rows (veil/core/sealing.py)."""

from __future__ import annotations

from services.notifier.recipients import chat_key
from veil.core.sealing import Keyring


def chat_key_sql(keys: Keyring, community_id: int, chat_id: int) -> str:
    """A SQL bytea literal of the keyed hash the notifier finds a chat's rows by."""
    return f"'\\x{chat_key(keys, community_id, chat_id).hex()}'::bytea"
