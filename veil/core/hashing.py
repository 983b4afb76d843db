"""Keyed hashing: turns Telegram ids into opaque, non-reversible tokens.

A Telegram id has at most 52 bits, so an unkeyed hash of one is brute-forced in
minutes; every token here is an HMAC under a secret kept apart from the data.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac


def keyed_token(key: bytes, *parts: object, length: int = 16) -> str:
    """URL-safe HMAC-SHA256 token of ``parts`` under ``key``, ``length`` bytes long."""
    message = "\x1f".join(str(part) for part in parts).encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()[:length]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class RememberedTokens:
    """:func:`keyed_token` under one key and length, remembering the last ``size`` answers.

    An HMAC costs a few microseconds, and the gateway asks for the same member's
    tokens a dozen times per update (the claim's key, each FSM key, the card's):
    computed afresh they were 6–8% of its CPU. The tokens are a pure function
    of their parts, so remembering them changes nothing but the cost; the
    memory holds nothing the process does not hold anyway (the key itself).
    """

    def __init__(self, key: bytes, *, length: int, size: int = 16_384) -> None:
        self._key = key
        self._length = length
        self._token = functools.lru_cache(maxsize=size)(self._compute)

    def __call__(self, *parts: object) -> str:
        """``keyed_token(key, *parts, length=length)``."""
        return self._token(*parts)

    def _compute(self, *parts: object) -> str:
        return keyed_token(self._key, *parts, length=self._length)


def subject_token(key: bytes, community_id: int, telegram_user_id: int) -> str:
    """The protected subject of a Telegram user in one community.

    What protects a community outlives the member's erasure (bans, submission
    limits, report and reaction markers) under this token alone: an HMAC under
    the deployment's id-hash key, so it names nobody without the key and is the
    same again when the same person joins again after ``/deleteme``.
    """
    return keyed_token(key, "subject", community_id, telegram_user_id, length=16)
