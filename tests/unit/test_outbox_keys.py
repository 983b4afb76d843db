"""The outbox keys the confessions service and the notifier worker both read."""

from __future__ import annotations

from veil.core.outbox import (
    card_key,
    channel_post_key,
    parse_card_key,
    parse_publication_key,
    publication_key,
)


def test_a_publication_key_names_its_community_and_confession() -> None:
    assert parse_publication_key(publication_key(12, 345)) == (12, 345)
    assert publication_key(12, 345) != publication_key(123, 45)


def test_a_card_key_names_its_confession() -> None:
    assert parse_card_key(card_key(987)) == 987


def test_other_keys_are_neither_a_publication_nor_a_card() -> None:
    others = [
        card_key(5),
        channel_post_key(1, 5),
        "notice:1:5",
        "publish:",
        "publish:1",
        "publish:1:x",
        "publish:-1:5",
        "card:",
        "card:5:6",
        "card:-5",
    ]
    for key in others:
        assert parse_publication_key(key) is None, key
    assert parse_card_key(publication_key(1, 5)) is None
    for key in ("card:", "card:5:6", "card:-5", "card:x", "cards:5"):
        assert parse_card_key(key) is None, key


def test_each_post_has_its_own_collapse_key() -> None:
    keys = {channel_post_key(c, n) for c in (1, 2) for n in (1, 2, 12)}
    assert len(keys) == 6
    # Never an idempotency key of the post itself: an edit must not replace the send.
    assert channel_post_key(1, 2) != publication_key(1, 2)
