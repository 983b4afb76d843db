"""What became of a leased message: sent, reported, unsure, retried, released or dead."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, LargeBinary, bindparam, false, func, select, text, update
from sqlalchemy.dialects.postgresql import insert

from services.notifier.models import dead_letters, outbox
from services.notifier.recipients import (
    chat_key,
    open_call,
    without_recipient,
)
from services.notifier.repository.base import RepositoryBase
from services.notifier.repository.rows import (
    DEAD,
    QUEUED,
    SENDING,
    SENT,
    ClaimedMessage,
    UnreportedPost,
)
from veil.core.sealing import SealingError
from veil.core.statements import Statement

# Messages Telegram accepted, with the ids it gave them (a worker marks those
# answered while its previous mark was being written in one statement).
_MARK_SENT = text(
    """
    UPDATE notifier.outbox o
    SET status = 'sent', sent_at = now(), lease_until = NULL, last_error = NULL,
        sent_message_id = m.sent_message_id, unsure_after = NULL, unreported = m.unreported,
        -- Sent: the row keeps no recipient (sealed chat id and parameters).
        sealed = NULL
    FROM unnest(
        CAST(:ids AS bigint[]), CAST(:message_ids AS bigint[]), CAST(:unreported AS boolean[])
    ) AS m(id, sent_message_id, unreported)
    WHERE o.id = m.id
    """
)

# A card or post about to leave: the chat's highest recorded message id, kept
# on the row unless an earlier attempt marked it (Outcomes.mark_unsure).
_MARK_UNSURE = Statement(
    update(outbox)
    .where(outbox.c.id == bindparam("id", type_=BigInteger))
    .values(
        unsure_after=func.coalesce(
            outbox.c.unsure_after,
            select(func.coalesce(func.max(outbox.c.sent_message_id), 0))
            .where(
                outbox.c.community_id == bindparam("community_id", type_=BigInteger),
                outbox.c.chat_key == bindparam("chat_key", type_=LargeBinary),
                outbox.c.status == SENT,
            )
            .scalar_subquery(),
        )
    )
    .returning(outbox.c.unsure_after),
    "mark_unsure",
)

_MARK_REPORTED = Statement(
    update(outbox)
    .where(outbox.c.id == bindparam("id", type_=BigInteger))
    .values(unreported=false()),
    "mark_reported",
)


class Outcomes(RepositoryBase):
    """Records of Telegram's answers to leased messages."""

    async def mark_sent(
        self, message_id: int, sent_message_id: int | None = None, *, unreported: bool = False
    ) -> None:
        """Record that Telegram accepted the message (see :meth:`mark_sent_many`)."""
        await self.mark_sent_many([(message_id, sent_message_id, unreported)])

    async def mark_sent_many(self, sent: Sequence[tuple[int, int | None, bool]]) -> None:
        """Record that Telegram accepted messages, given as (queue id, Telegram's
        message id, unreported): one UPDATE, committed at once.

        Not conditioned on the lease: if the lease ran out meanwhile, the
        message was still delivered and must not be sent again. The message id
        Telegram gave it is kept for later edits of it (``edit_of``).
        ``unreported``: a channel post, until :meth:`mark_reported`.
        """
        if not sent:
            return
        params = {
            "ids": [i for i, _, _ in sent],
            "message_ids": [m for _, m, _ in sent],
            "unreported": [u for _, _, u in sent],
        }
        async with self._db.write_one() as conn:
            await conn.execute(_MARK_SENT, params)

    async def mark_reported(self, message_id: int) -> None:
        """The confessions service has the post's id (or needs it no more)."""
        await self._db.execute(_MARK_REPORTED, id=message_id)

    async def unreported(self, older_than_seconds: float, limit: int = 50) -> list[UnreportedPost]:
        """Sent channel posts whose report has been missing for ``older_than_seconds``."""
        age = func.make_interval(0, 0, 0, 0, 0, 0, older_than_seconds)
        async with self._db.read_own() as conn:
            rows = (
                await conn.execute(
                    select(
                        outbox.c.id,
                        outbox.c.community_id,
                        outbox.c.idempotency_key,
                        outbox.c.sent_message_id,
                    )
                    .where(outbox.c.unreported, outbox.c.sent_at < func.now() - age)
                    .order_by(outbox.c.sent_at)
                    .limit(limit)
                )
            ).all()
        return [
            UnreportedPost(
                int(r.id), int(r.community_id), str(r.idempotency_key), int(r.sent_message_id or 0)
            )
            for r in rows
        ]

    async def mark_unsure(self, message: ClaimedMessage) -> int:
        """Before a card or post leaves: the chat's highest known message id, kept on the row.

        Until its outcome is recorded, an attempt may have reached Telegram
        unrecorded; its copy would have a larger id. The first mark stays
        (an earlier unsure attempt's copy is the one to find). Returns the mark,
        0 when the chat has no recorded message (nothing to look above).
        """
        # The chat by its keyed hash (no chat id is stored).
        mark = await self._db.fetchval(
            _MARK_UNSURE,
            id=message.id,
            community_id=message.community_id,
            chat_key=chat_key(self._keys, message.community_id, message.chat_id),
        )
        return int(mark)

    async def retry_later(
        self,
        message_id: int,
        worker: str,
        delay_seconds: float,
        error: str,
        *,
        count: bool,
        sure: bool = False,
    ) -> None:
        """Put a leased message back in the queue, due after ``delay_seconds``.

        ``count`` False gives the attempt back (throttled before sending, or a 429).
        ``sure``: Telegram's answer says no attempt of it arrived (the mark of
        :meth:`mark_unsure` is cleared).
        """
        extra: dict[str, Any] = {"unsure_after": None} if sure else {}
        async with self._db.write_one() as conn:
            await conn.execute(
                update(outbox)
                .where(
                    outbox.c.id == message_id,
                    outbox.c.status == SENDING,
                    outbox.c.leased_by == worker,
                )
                .values(
                    status=QUEUED,
                    lease_until=None,
                    leased_by=None,
                    retry_at=func.now() + func.make_interval(0, 0, 0, 0, 0, 0, delay_seconds),
                    last_error=error,
                    attempts=outbox.c.attempts if count else outbox.c.attempts - 1,
                    **extra,
                )
            )

    async def release(self, message_ids: list[int], worker: str) -> int:
        """Give leased messages back untouched (shutdown); returns how many."""
        if not message_ids:
            return 0
        async with self._db.write_one() as conn:
            result = await conn.execute(
                update(outbox)
                .where(
                    outbox.c.id.in_(message_ids),
                    outbox.c.status == SENDING,
                    outbox.c.leased_by == worker,
                )
                .values(
                    status=QUEUED, lease_until=None, leased_by=None, attempts=outbox.c.attempts - 1
                )
            )
        return int(result.rowcount)

    async def dead_letter(self, message_id: int, error_code: int, description: str) -> None:
        """Give up on a message: status ``dead`` and a copy with Telegram's answer."""
        async with self._db.write() as conn:
            row = (
                await conn.execute(
                    update(outbox)
                    .where(outbox.c.id == message_id)
                    .values(
                        status=DEAD,
                        lease_until=None,
                        last_error=description,
                        reason=f"{error_code}",
                        sealed=None,
                    )
                    .returning(
                        outbox.c.community_id,
                        outbox.c.chat_key,
                        outbox.c.method,
                        outbox.c.attempts,
                        outbox.c.idempotency_key,
                        # The value before this UPDATE (a scalar subquery reads
                        # the statement's snapshot).
                        select(outbox.c.sealed)
                        .where(outbox.c.id == message_id)
                        .scalar_subquery()
                        .label("sealed"),
                    )
                )
            ).one()
            params: dict[str, Any] = {}
            if row.sealed is not None:
                try:
                    _, opened = open_call(self._keys, row.idempotency_key, bytes(row.sealed))
                    params = without_recipient(opened)
                except SealingError:
                    params = {}
            await conn.execute(
                insert(dead_letters)
                .values(
                    outbox_id=message_id,
                    community_id=row.community_id,
                    chat_key=row.chat_key,
                    method=row.method,
                    params=params,
                    error_code=error_code,
                    description=description,
                    attempts=row.attempts,
                )
                .on_conflict_do_nothing(index_elements=[dead_letters.c.outbox_id])
            )
