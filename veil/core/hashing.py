"""Keyed hashing: turns Telegram ids into opaque, non-reversible tokens.

A Telegram id has at most 52 bits, so an unkeyed hash of one is brute-forced in
minutes; every token here is an HMAC under a secret kept apart from the data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def keyed_token(key: bytes, *parts: object, length: int = 16) -> str:
    """URL-safe HMAC-SHA256 token of ``parts`` under ``key``, ``length`` bytes long."""
    message = "\x1f".join(str(part) for part in parts).encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()[:length]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
