"""The gateway's cached answers of RegisterMember ("cards"), and their retirement.

Nearly every update asks the confessions service who its member is (and, in a
thread, which confession the thread is). Those answers change only when a
member's standing or a published thread changes, so the gateway keeps them in
Redis and asks again only when one is missing:

- a **member card** (the member, their standing) lives in the member's own
  slot, beside the update's claim, so the claim script reads it and the script
  that marks the update done writes it: no round trip of its own;
- a **thread card** (a published confession) lives under the thread, read with
  one GET when an update is about a thread.
- a **rules card** (a community's rules for comments) lives under the
  community, read beside the thread card when a member writes a comment.

The gateway writes a card only where no key is (``SET NX``). The confessions
service, *after* a change commits, overwrites the card with a **tombstone** that
outlives any update in flight (``TOMBSTONE_SECONDS`` > the gateway's update
deadline): an update that read the old row before the commit can then neither
have its stale answer stored nor find one, whichever of the two writes lands
first. While the tombstone stands the member's updates ask the service; then a
fresh card is stored again.

The keys hold no Telegram id: the member's slot is a keyed hash (``member_tag``),
a card holds internal ids and the keyed subject only.
"""

from __future__ import annotations

from veil.core.hashing import RememberedTokens, keyed_token

# What a key holds: a member card, a thread card, or a retired card.
MEMBER_CARD = b"m"
THREAD_CARD = b"t"
RULES_CARD = b"r"
TOMBSTONE = b"-"

# How long a card is kept: the tombstones keep them exact; these only bound
# what Redis holds for members and threads gone quiet.
MEMBER_CARD_SECONDS = 600
THREAD_CARD_SECONDS = 1800
RULES_CARD_SECONDS = 1800
# Longer than any update may take (the gateway's deadline is < 60 s, its
# in-flight claim 60 s): no update that read the old row is still running when
# a tombstone expires.
TOMBSTONE_SECONDS = 120


# The length of a member's tag (and of the FSM keys' other token), in bytes.
TAG_BYTES = 9


def member_tag(id_key: bytes, bot_id: int, user_id: int | None) -> str:
    """The hash tag of a member's keys; keyed, so Redis never holds a Telegram id."""
    return keyed_token(id_key, *_tag_parts(bot_id, user_id), length=TAG_BYTES)


class MemberTags:
    """:func:`member_tag` under one key, remembered (the gateway asks it on every update)."""

    def __init__(self, id_key: bytes) -> None:
        self.tokens = RememberedTokens(id_key, length=TAG_BYTES)

    def __call__(self, bot_id: int, user_id: int | None) -> str:
        """The member's tag, as :func:`member_tag` gives it."""
        return self.tokens(*_tag_parts(bot_id, user_id))


def _tag_parts(bot_id: int, user_id: int | None) -> tuple[object, ...]:
    return bot_id, user_id if user_id is not None else "-"


def member_card_key(tag: str) -> str:
    """The member card in the member's slot (``tag``: :func:`member_tag`)."""
    return f"g:{{{tag}}}:card"


def thread_card_key(community_id: int, number: int) -> str:
    """The card of thread ``number`` (numbers are public: no id to hide)."""
    return f"card:{{t{community_id}.{number}}}"


def rules_card_key(community_id: int) -> str:
    """The card of community ``community_id``'s rules for comments."""
    return f"card:{{c{community_id}}}"
