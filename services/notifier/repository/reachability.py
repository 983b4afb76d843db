"""Chats that answered 403: marked, dropped, forgotten on /start, listed without saying which."""

from __future__ import annotations

from sqlalchemy import delete, null, select, update
from sqlalchemy.dialects.postgresql import insert

from services.notifier.models import outbox, unreachable_chats
from services.notifier.recipients import (
    chat_key,
    is_private,
)
from services.notifier.repository.base import RepositoryBase
from services.notifier.repository.rows import (
    DROPPED,
    QUEUED,
    SENDING,
    UnreachableRow,
)


class Reachability(RepositoryBase):
    """The ``unreachable_chats`` mark and its effect on the outbox."""

    async def mark_blocked(
        self, community_id: int, chat_id: int, message_id: int, description: str
    ) -> int:
        """The chat answered 403: remember it, drop its pending messages; returns how many."""
        key = chat_key(self._keys, community_id, chat_id)
        async with self._db.write() as conn:
            await conn.execute(
                insert(unreachable_chats)
                .values(
                    community_id=community_id,
                    chat_key=key,
                    private_chat=is_private(chat_id),
                    description=description,
                )
                .on_conflict_do_update(
                    index_elements=[unreachable_chats.c.community_id, unreachable_chats.c.chat_key],
                    set_={"description": description},
                )
            )
            result = await conn.execute(
                update(outbox)
                .where(
                    outbox.c.community_id == community_id,
                    outbox.c.chat_key == key,
                    # The message that got the 403, and every one still waiting;
                    # not one another worker has in flight (its own answer decides).
                    (outbox.c.id == message_id) | (outbox.c.status == QUEUED),
                    outbox.c.status.in_([QUEUED, SENDING]),
                )
                .values(
                    status=DROPPED,
                    reason="blocked",
                    last_error=description,
                    lease_until=None,
                    sealed=null(),
                )
            )
        return int(result.rowcount)

    async def mark_reachable(self, community_id: int, chat_id: int) -> bool:
        """Forget a 403; returns whether the chat was marked unreachable."""
        async with self._db.write() as conn:
            result = await conn.execute(
                delete(unreachable_chats).where(
                    unreachable_chats.c.community_id == community_id,
                    unreachable_chats.c.chat_key == chat_key(self._keys, community_id, chat_id),
                )
            )
        return bool(result.rowcount)

    async def list_unreachable(self, community_id: int) -> list[UnreachableRow]:
        """A community's unreachable chats, newest first (read on the primary)."""
        async with self._db.read_own() as conn:
            # Only the keyed hash of a chat is stored, and whether it is private.
            rows = await conn.execute(
                select(
                    unreachable_chats.c.private_chat,
                    unreachable_chats.c.since,
                    unreachable_chats.c.description,
                )
                .where(unreachable_chats.c.community_id == community_id)
                .order_by(unreachable_chats.c.since.desc())
            )
            return [UnreachableRow(bool(r.private_chat), r.since, str(r.description)) for r in rows]
