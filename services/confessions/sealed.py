"""What the confessions schema keeps of a member's Telegram identity: sealed.

* ``members.lookup``: the keyed hash of (community, Telegram user id) a member
  is found by (veil/core/sealing.py); it names nobody without the lookup key.
* ``members.data_key``: the member's own data key, wrapped by the master key.
  It lives on the member's row only, so ``/deleteme`` destroys it with the row.
* ``members.chat``: the private chat id (where notices go; for a private chat
  it is the member's Telegram user id) sealed under that data key, bound to the
  row by its community and lookup hash.
* ``communities.bot_token``: an envelope bound to the bot's id.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.confessions.models import members
from veil.core.errors import NotFoundError
from veil.core.sealing import Keyring, ad


class MemberSeal:
    """Seals and opens members' chat ids and bot tokens with one deployment's keys."""

    def __init__(self, keys: Keyring) -> None:
        self.keys = keys

    def lookup(self, community_id: int, telegram_user_id: int) -> bytes:
        """The keyed hash a member of a community is found by."""
        return self.keys.lookup("member", community_id, telegram_user_id)

    def new_member(
        self, community_id: int, telegram_user_id: int, *, lookup: bytes | None = None
    ) -> dict[str, Any]:
        """The sealed columns of a new member: lookup, wrapped data key, sealed chat
        (``lookup`` when the caller computed it already)."""
        if lookup is None:
            lookup = self.lookup(community_id, telegram_user_id)
        bound = _member_ad(community_id, lookup)
        dek, wrapped = self.keys.new_data_key(bound)
        chat = self.keys.seal_with(dek, str(telegram_user_id).encode(), bound)
        return {"lookup": lookup, "data_key": wrapped, "chat": chat}

    def chat_id(self, community_id: int, lookup: bytes, data_key: bytes, chat: bytes) -> int:
        """The member's private chat id; SealingError when it does not open."""
        bound = _member_ad(community_id, bytes(lookup))
        dek = self.keys.unwrap(bytes(data_key), bound)
        return int(self.keys.open_with(dek, bytes(chat), bound))

    async def open_member(self, conn: AsyncConnection, community_id: int, member_id: int) -> int:
        """A member's private chat id, read in ``conn``'s transaction and opened.

        NotFoundError when the community has no such member. (The one read of a
        member's sealed columns by id: bans and warns derive the subject from it.)
        """
        who = select(members.c.lookup, members.c.data_key, members.c.chat).where(
            members.c.id == member_id, members.c.community_id == community_id
        )
        found = (await conn.execute(who)).first()
        if found is None:
            raise NotFoundError(f"member {member_id} is not in community {community_id}")
        return self.chat_id(community_id, found.lookup, found.data_key, found.chat)

    def author_chat(self, community_id: int, row: Any) -> int:
        """The chat of a row's author (``author_lookup/_key/_chat``), 0 when erased."""
        if row["author_lookup"] is None:
            return 0
        return self.chat_id(
            community_id, row["author_lookup"], row["author_key"], row["author_chat"]
        )

    def seal_token(self, bot_id: int, token: str) -> bytes:
        """A bot token as stored in ``communities``."""
        return self.keys.seal(token.encode(), ad("confessions.communities.bot_token", bot_id))

    def open_token(self, bot_id: int, sealed: bytes) -> str:
        """A stored bot token, opened."""
        return self.keys.open(
            bytes(sealed), ad("confessions.communities.bot_token", bot_id)
        ).decode()


def _member_ad(community_id: int, lookup: bytes) -> bytes:
    return ad("confessions.members", community_id, lookup.hex())


def member_key_ad(community_id: int, lookup: bytes) -> bytes:
    """Associated data of a member's wrapped data key (for ``veil keys rotate``)."""
    return _member_ad(community_id, lookup)


def token_ad(bot_id: int) -> bytes:
    """Associated data of a sealed bot token (for ``veil keys rotate``)."""
    return ad("confessions.communities.bot_token", bot_id)
