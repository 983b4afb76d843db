"""Pseudonyms: keyed, stable within a thread, different across threads."""

from __future__ import annotations

import hashlib

from services.social.pseudonyms import pseudonym

KEY = b"k" * 32


def test_pseudonym_stable_within_a_thread_and_different_across() -> None:
    assert pseudonym(KEY, 7, 42) == pseudonym(KEY, 7, 42)
    names = {pseudonym(KEY, confession, 42) for confession in range(1, 51)}
    assert len(names) > 45  # 50 threads, nearly all different names
    assert pseudonym(KEY, 7, 42) != pseudonym(KEY, 7, 43)


def test_pseudonym_needs_the_key() -> None:
    member, confession = 42, 7
    name = pseudonym(KEY, confession, member)
    assert name != pseudonym(b"another key" * 3, confession, member)
    # Nothing computable from the ids alone yields the name.
    for guess_key in (b"", str(member).encode(), f"{confession}:{member}".encode()):
        assert pseudonym(guess_key, confession, member) != name
    unkeyed = hashlib.sha256(f"{confession}:{member}".encode()).hexdigest()
    assert unkeyed not in name and str(member) not in name.split()[:2]
