"""Members' conversations with the admins: the SQL (WriteToAdmins, AnswerConversation, …).

Admins know a conversation by its id alone ("Guest 17"): a fresh label each
time a member opens one, unrelated to their thread pseudonyms. The row names
its member by internal id (a delivery joins the member row for the chat, so
no Telegram id is stored here) and by protected subject, so that a block
outlives /deleteme. No message text is stored: it travels through the
notifier only. The member row itself holds no Telegram id in clear: it is
found by its lookup hash and its chat opened under the member's data key
(services/confessions/sealed.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.confessions.models import communities, conversations, members
from services.confessions.sealed import MemberSeal
from veil.core.db import Database
from veil.core.errors import NotFoundError, RefusedError

BLOCKED = "Your conversation was blocked: the admins do not take messages from it any more."


def label(conversation_id: int) -> str:
    """How admins see a conversation."""
    return f"Guest {conversation_id}"


@dataclass(frozen=True)
class Opened:
    """The member's open conversation and where the admins are."""

    id: int
    opened: bool
    admin_chat_id: int


@dataclass(frozen=True)
class Target:
    """A conversation seen from the admins' side: its state and whom to tell."""

    id: int
    status: str
    # The member's chat (None once they erased themselves); never returned.
    telegram_id: int | None
    admin_chat_id: int


class ConversationsRepository:
    """Conversations of a community's members with its admins."""

    def __init__(self, db: Database, seal: MemberSeal) -> None:
        self._db = db
        self._seal = seal

    async def open(self, community_id: int, telegram_user_id: int, subject: str) -> Opened:
        """The member's open conversation, opened if they have none.

        Refused when admins blocked any conversation of this subject.
        """
        async with self._db.write() as conn:
            admin_chat_id = await _admin_chat(conn, community_id)
            # One member writing twice at once opens one conversation.
            await conn.execute(
                select(func.pg_advisory_xact_lock(func.hashtext(f"conv:{community_id}:{subject}")))
            )
            if await _blocked(conn, community_id, subject):
                raise RefusedError(BLOCKED)
            member_id = await self._member_id(conn, community_id, telegram_user_id)
            found = (
                await conn.execute(
                    select(conversations.c.id).where(
                        conversations.c.community_id == community_id,
                        conversations.c.member_id == member_id,
                        conversations.c.status == "open",
                    )
                )
            ).scalar_one_or_none()
            if found is not None:
                await conn.execute(
                    update(conversations)
                    .where(conversations.c.id == found)
                    .values(updated_at=func.now())
                )
                return Opened(int(found), False, int(admin_chat_id))
            new_id = (
                await conn.execute(
                    insert(conversations)
                    .values(community_id=community_id, member_id=member_id, subject=subject)
                    .returning(conversations.c.id)
                )
            ).scalar_one()
        return Opened(int(new_id), True, int(admin_chat_id))

    async def _member_id(
        self, conn: AsyncConnection, community_id: int, telegram_user_id: int
    ) -> int:
        """The member's id, registering them if they are new here."""
        member_id = (
            await conn.execute(
                insert(members)
                .values(
                    community_id=community_id,
                    **self._seal.new_member(community_id, telegram_user_id),
                )
                .on_conflict_do_update(
                    # An existing member keeps their data key and sealed chat.
                    constraint="members_community_lookup_key",
                    set_={"lookup": members.c.lookup},
                )
                .returning(members.c.id)
            )
        ).scalar_one()
        return int(member_id)

    async def target(self, community_id: int, conversation_id: int) -> Target | None:
        """A conversation by id, with its member's chat (for an admin's answer)."""
        statement = (
            select(
                conversations.c.id,
                conversations.c.status,
                members.c.lookup,
                members.c.data_key,
                members.c.chat,
                communities.c.admin_chat_id,
            )
            .select_from(
                conversations.join(
                    communities, communities.c.id == conversations.c.community_id
                ).outerjoin(members, members.c.id == conversations.c.member_id)
            )
            .where(
                conversations.c.community_id == community_id,
                conversations.c.id == conversation_id,
            )
        )
        async with self._db.read_own() as conn:
            row = (await conn.execute(statement)).first()
        if row is None:
            return None
        telegram = (
            None
            if row.lookup is None
            else self._seal.chat_id(community_id, row.lookup, row.data_key, row.chat)
        )
        return Target(int(row.id), str(row.status), telegram, int(row.admin_chat_id))

    async def set_status(
        self, community_id: int, conversation_id: int, *, to: str, only_from: tuple[str, ...]
    ) -> Target | None:
        """Move a conversation ``only_from`` those states ``to`` another; None if it did not."""
        statement = (
            update(conversations)
            .where(
                conversations.c.community_id == community_id,
                conversations.c.id == conversation_id,
                conversations.c.status.in_(only_from),
            )
            .values(status=to, updated_at=func.now())
            .returning(conversations.c.id)
        )
        async with self._db.write() as conn:
            moved = (await conn.execute(statement)).scalar_one_or_none()
        if moved is None:
            return None
        return await self.target(community_id, conversation_id)

    async def open_of(self, community_id: int, telegram_user_id: int) -> int | None:
        """The id of the member's open conversation, if any."""
        statement = (
            select(conversations.c.id)
            .join(members, members.c.id == conversations.c.member_id)
            .where(
                conversations.c.community_id == community_id,
                conversations.c.status == "open",
                members.c.community_id == community_id,
                members.c.lookup == self._seal.lookup(community_id, telegram_user_id),
            )
        )
        async with self._db.read_own() as conn:
            found = (await conn.execute(statement)).scalar_one_or_none()
        return None if found is None else int(found)


async def _admin_chat(conn: AsyncConnection, community_id: int) -> int:
    """The community's admin chat; refuses a community that does not exist."""
    admin_chat_id = (
        await conn.execute(
            select(communities.c.admin_chat_id).where(communities.c.id == community_id)
        )
    ).scalar_one_or_none()
    if admin_chat_id is None:
        raise NotFoundError(f"community {community_id} does not exist")
    return int(admin_chat_id)


async def _blocked(conn: AsyncConnection, community_id: int, subject: str) -> bool:
    """Whether admins blocked a conversation of this subject."""
    blocked = (
        await conn.execute(
            select(func.count()).where(
                conversations.c.community_id == community_id,
                conversations.c.subject == subject,
                conversations.c.status == "blocked",
            )
        )
    ).scalar_one()
    return bool(blocked)
