"""Pseudonyms: stable for one member within one confession, different across confessions.

Derived with an HMAC under a secret key, so nobody holding the data alone can
link a pseudonym to a member or one thread's pseudonym to another's.
"""

from __future__ import annotations

import hashlib
import hmac

ADJECTIVES = (
    "Amber",
    "Brave",
    "Calm",
    "Dusky",
    "Eager",
    "Fuzzy",
    "Gentle",
    "Hidden",
    "Icy",
    "Jolly",
    "Kind",
    "Lucky",
    "Misty",
    "Noble",
    "Odd",
    "Quiet",
    "Rusty",
    "Shy",
    "Sunny",
    "Tidy",
    "Velvet",
    "Wild",
    "Young",
    "Zesty",
    "Bold",
    "Clever",
    "Dreamy",
    "Fierce",
    "Golden",
    "Humble",
    "Lazy",
    "Merry",
)
ANIMALS = (
    "Otter",
    "Fox",
    "Heron",
    "Lynx",
    "Panda",
    "Raven",
    "Seal",
    "Tiger",
    "Wolf",
    "Yak",
    "Badger",
    "Crane",
    "Dingo",
    "Eagle",
    "Finch",
    "Gecko",
    "Hare",
    "Ibis",
    "Koala",
    "Lemur",
    "Moose",
    "Newt",
    "Owl",
    "Puffin",
    "Quail",
    "Robin",
    "Sloth",
    "Toad",
    "Viper",
    "Walrus",
    "Zebra",
    "Bison",
)


def pseudonym(key: bytes, confession_id: int, member_id: int) -> str:
    """The member's name in the thread of ``confession_id``, e.g. "Misty Heron 417"."""
    digest = hmac.new(key, f"{confession_id}:{member_id}".encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[2:4], "big") % 1000
    return f"{ADJECTIVES[digest[0] % len(ADJECTIVES)]} {ANIMALS[digest[1] % len(ANIMALS)]} {number}"
