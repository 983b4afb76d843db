"""Keyed tokens: the same for the same input and key, useless without the key."""

from __future__ import annotations

import base64
import hashlib

from aiogram.fsm.storage.base import StorageKey

from services.gateway.fsm import OpaqueKeyBuilder
from veil.contracts.cards import MemberTags, member_tag
from veil.core.hashing import RememberedTokens, keyed_token, subject_token

KEY = b"k" * 32


def test_a_token_is_stable_and_depends_on_every_part_and_the_key() -> None:
    assert keyed_token(KEY, "a", 1) == keyed_token(KEY, "a", 1)
    assert keyed_token(KEY, "a", 1) != keyed_token(KEY, "a", 2)
    assert keyed_token(KEY, "a", 1) != keyed_token(b"j" * 32, "a", 1)
    # Parts are separated: ("1", "23") and ("12", "3") are different inputs.
    assert keyed_token(KEY, 1, 23) != keyed_token(KEY, 12, 3)


def test_a_token_has_the_asked_length_and_is_url_safe() -> None:
    for length in (8, 16, 32):
        token = keyed_token(KEY, "x", length=length)
        assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) == length
        assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_a_subject_is_per_community_and_names_nobody_without_the_key() -> None:
    user = 7_300_000_123
    token = subject_token(KEY, 5, user)
    assert token == subject_token(KEY, 5, user)
    assert token != subject_token(KEY, 6, user)
    assert str(user) not in token
    for unkeyed in (
        hashlib.sha256(str(user).encode()).digest()[:16],
        hashlib.sha256(f"subject\x1f5\x1f{user}".encode()).digest()[:16],
    ):
        assert base64.urlsafe_b64encode(unkeyed).rstrip(b"=").decode() != token


def test_remembered_tokens_are_the_keyed_tokens_and_stay_bounded() -> None:
    remembered = RememberedTokens(KEY, length=9, size=4)
    for user in range(10):
        assert remembered(1, user) == keyed_token(KEY, 1, user, length=9)
        assert remembered(1, user) == keyed_token(KEY, 1, user, length=9)
    info = remembered._token.cache_info()
    assert (info.hits, info.misses, info.currsize) == (10, 10, 4)


def test_member_tags_and_fsm_keys_keep_their_spelling() -> None:
    # Keys already in Redis (FSM records, cards) must be found after the
    # remembered tokens replaced the direct HMACs.
    tags = MemberTags(KEY)
    for user in (None, 1, 7_300_000_123):
        assert tags(42, user) == member_tag(KEY, 42, user)
    key = StorageKey(bot_id=42, chat_id=1001, user_id=1001)
    rest = keyed_token(KEY, 1001, "", "", key.destiny, length=9)
    built = OpaqueKeyBuilder(KEY).build(key, "state")
    assert built == f"fsm:{{{member_tag(KEY, 42, 1001)}}}:{rest}:state"
