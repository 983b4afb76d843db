"""All SQL of the notifier service (the gRPC service and the workers)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, null, select, text, update
from sqlalchemy.dialects.postgresql import insert

from services.notifier.enqueue_many import enqueue_many, fits_one_statement
from services.notifier.enqueue_one import enqueue_one
from services.notifier.models import community_limits, dead_letters, outbox, unreachable_chats
from services.notifier.recipients import (
    chat_key,
    is_private,
    open_call,
    seal_call,
    without_recipient,
)
from veil.core.db import Database
from veil.core.sealing import Keyring, SealingError

log = logging.getLogger(__name__)

# Status of a message (see models.py).
QUEUED, SENDING, SENT, DEAD, DROPPED, COLLAPSED = (
    "queued",
    "sending",
    "sent",
    "dead",
    "dropped",
    "collapsed",
)


@dataclass(frozen=True)
class NewMessage:
    """One Bot API call to queue."""

    community_id: int
    chat_id: int
    method: str
    params: dict[str, Any]
    priority: int
    idempotency_key: str
    collapse_key: str | None
    not_before: datetime | None
    trace_context: dict[str, str] | None = None
    edit_of: str | None = None


@dataclass(frozen=True)
class QueueStatRow:
    """Depth and oldest age of one (community, priority) queue."""

    community_id: int
    priority: int
    depth: int
    oldest_age_seconds: float


@dataclass(frozen=True)
class StatusCountRow:
    """How many messages of a community are in one status."""

    community_id: int
    status: str
    count: int


@dataclass(frozen=True)
class DeadLetterStatRow:
    """Dead letters of one community with one Telegram answer."""

    community_id: int
    error_code: int
    description: str
    count: int
    latest: datetime


@dataclass(frozen=True)
class ClaimedMessage:
    """A message leased to one worker for sending."""

    id: int
    community_id: int
    chat_id: int
    method: str
    params: dict[str, Any]
    priority: int
    attempts: int
    trace_context: dict[str, str]
    idempotency_key: str = ""
    # A call that edits an earlier message: that message's key, and the id
    # Telegram gave it (None: it was never sent, so there is nothing to edit).
    edit_of: str | None = None
    edit_target: int | None = None
    # An earlier attempt may have reached Telegram unrecorded: the chat's highest
    # known message id when it left (see worker/reconcile.py); None: none did.
    unsure_after: int | None = None


@dataclass(frozen=True)
class UnreportedPost:
    """A sent channel post the confessions service has not stored the id of."""

    id: int
    community_id: int
    idempotency_key: str
    message_id: int


@dataclass(frozen=True)
class LimitsRow:
    """A community's stored limits; None means the default."""

    community_id: int
    per_second: float | None
    per_private_chat_per_second: float | None
    per_group_per_minute: float | None


@dataclass(frozen=True)
class UnreachableRow:
    """A chat that answered 403 (which one is not said: see ListUnreachable)."""

    # A member's private chat (Telegram: positive chat ids), not a group or channel.
    private_chat: bool
    since: datetime
    description: str


# Claiming keeps each chat's order across any number of workers:
#
# * ``heads`` is, per chat, the first pending message (queued or sending, by
#   priority then enqueue order) that is due. A chat whose head is in flight
#   (a valid lease) or waiting for a retry (``retry_at`` in the future) offers
#   nothing, so its next message cannot overtake it.
# * The outer SELECT locks the heads it takes with FOR UPDATE SKIP LOCKED, so two
#   workers never take the same row; a worker that read a head another worker is
#   claiming skips it instead of taking the chat's *next* message (it only ever
#   considers heads). If the other worker committed in between, Postgres re-checks
#   ``status``/``lease_until`` on the new row version (READ COMMITTED), and the
#   row, now leased, drops out.
# * A lease that ran out (its worker died) makes the head claimable again: the
#   message is sent once more, by whichever worker claims it first.
# * ``per_bot`` caps how many heads of one community a claim takes, so that one
#   bot's backlog does not fill a worker while another bot could be sending.
_CLAIM = text(
    """
    WITH heads AS (
        SELECT DISTINCT ON (community_id, chat_key) id, status, lease_until, retry_at
        FROM notifier.outbox
        WHERE status IN ('queued', 'sending') AND not_before <= now()
          AND community_id <> ALL(CAST(:skip AS bigint[]))
        ORDER BY community_id, chat_key, priority, id
    ),
    ready AS (
        SELECT o.id, row_number() OVER (
            PARTITION BY o.community_id ORDER BY o.priority, o.id
        ) AS rank
        FROM heads h JOIN notifier.outbox o ON o.id = h.id
        WHERE (h.status = 'queued' AND (h.retry_at IS NULL OR h.retry_at <= now()))
           OR (h.status = 'sending' AND h.lease_until < now())
    ),
    picked AS (
        SELECT o.id
        FROM notifier.outbox o JOIN ready r ON r.id = o.id
        WHERE r.rank <= :per_bot
          AND ((o.status = 'queued' AND (o.retry_at IS NULL OR o.retry_at <= now()))
               OR (o.status = 'sending' AND o.lease_until < now()))
        ORDER BY r.rank, o.priority, o.id
        LIMIT :limit
        FOR UPDATE OF o SKIP LOCKED
    )
    UPDATE notifier.outbox o
    SET status = 'sending',
        lease_until = now() + make_interval(secs => :lease_seconds),
        leased_by = :worker,
        attempts = o.attempts + 1,
        retry_at = NULL
    FROM picked
    WHERE o.id = picked.id
    RETURNING o.id, o.community_id, o.sealed, o.method, o.priority, o.attempts,
              o.trace_context, o.idempotency_key, o.edit_of, o.unsure_after,
              (SELECT t.sent_message_id FROM notifier.outbox t
               WHERE t.idempotency_key = o.edit_of AND t.status = 'sent') AS edit_target
    """
).bindparams(
    bindparam("per_bot"),
    bindparam("limit"),
    bindparam("lease_seconds"),
    bindparam("worker"),
    bindparam("skip"),
)


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


class NotifierRepository:
    """Reads and writes of the ``notifier`` schema."""

    def __init__(self, db: Database, keys: Keyring) -> None:
        self._db = db
        self._keys = keys

    # -- enqueue ---------------------------------------------------------------

    async def enqueue(self, messages: list[NewMessage]) -> tuple[list[int], int]:
        """Queue messages in one statement; returns (ids in order, how many were new).

        A batch repeating a key or a collapse key within itself takes one
        transaction instead (see enqueue_many.py).

        A message to a chat that blocked the bot is stored as ``dropped`` at once.
        A new message with a collapse key collapses older *queued* (not leased)
        messages of the same community with that key.
        """
        if len(messages) == 1:
            new_id, new = await enqueue_one(
                self._db,
                _values(messages[0], self._keys),
                queued=QUEUED,
                dropped=DROPPED,
                collapsed=COLLAPSED,
            )
            return [new_id], int(new)
        batch = [_values(m, self._keys) for m in messages]
        if fits_one_statement(batch):
            return await enqueue_many(
                self._db, batch, queued=QUEUED, dropped=DROPPED, collapsed=COLLAPSED
            )
        ids: list[int] = []
        accepted = 0
        async with self._db.write() as conn:
            blocked = await self._blocked_chats(conn, messages)
            for message in messages:
                values = _values(message, self._keys)
                if (message.community_id, values["chat_key"]) in blocked:
                    # Never sent: it keeps no recipient.
                    values |= {"status": DROPPED, "reason": "blocked", "sealed": None}
                statement = (
                    insert(outbox)
                    .values(**values)
                    .on_conflict_do_nothing(index_elements=[outbox.c.idempotency_key])
                    .returning(outbox.c.id)
                )
                new_id = (await conn.execute(statement)).scalar_one_or_none()
                if new_id is None:
                    existing = select(outbox.c.id).where(
                        outbox.c.idempotency_key == message.idempotency_key
                    )
                    new_id = (await conn.execute(existing)).scalar_one()
                else:
                    accepted += 1
                    if message.collapse_key is not None:
                        await conn.execute(
                            update(outbox)
                            .where(
                                outbox.c.collapse_key == message.collapse_key,
                                outbox.c.community_id == message.community_id,
                                outbox.c.status == QUEUED,
                                outbox.c.id < new_id,
                            )
                            .values(status=COLLAPSED, reason=f"collapsed by {new_id}", sealed=None)
                        )
                ids.append(int(new_id))
        return ids, accepted

    async def _blocked_chats(self, conn: Any, messages: list[NewMessage]) -> set[tuple[int, bytes]]:
        keys = self._keys
        pairs = {(m.community_id, chat_key(keys, m.community_id, m.chat_id)) for m in messages}
        communities = {c for c, _ in pairs}
        chats = {c for _, c in pairs}
        rows = await conn.execute(
            select(unreachable_chats.c.community_id, unreachable_chats.c.chat_key).where(
                unreachable_chats.c.community_id.in_(communities),
                unreachable_chats.c.chat_key.in_(chats),
            )
        )
        return {(int(r.community_id), bytes(r.chat_key)) for r in rows} & pairs

    # -- the worker's side -----------------------------------------------------

    async def claim(
        self,
        worker: str,
        limit: int,
        per_bot: int,
        lease_seconds: float,
        skip: list[int] | None = None,
    ) -> list[ClaimedMessage]:
        """Lease up to ``limit`` chat heads to ``worker`` (see ``_CLAIM``).

        Communities in ``skip`` are left alone (their bot cannot send more now).
        One statement, atomic on its own: no BEGIN/COMMIT round trips (a poll
        of an idle queue is one statement, not three).
        """
        async with self._db.write_one() as conn:
            rows = (
                await conn.execute(
                    _CLAIM,
                    {
                        "per_bot": per_bot,
                        "limit": limit,
                        "lease_seconds": lease_seconds,
                        "worker": worker,
                        "skip": skip or [],
                    },
                )
            ).all()
        claimed = []
        unsendable = []
        for r in rows:
            try:
                if r.sealed is None:
                    raise SealingError("its recipient was erased")
                chat_id, params = open_call(self._keys, str(r.idempotency_key), bytes(r.sealed))
            except SealingError as error:
                # Erased while leased by a worker that died, or sealed under a key
                # this process lacks (refused at start, so not expected): never sent.
                log.error("message cannot be opened", extra={"outbox_id": r.id, "why": str(error)})
                unsendable.append(int(r.id))
                continue
            claimed.append(
                ClaimedMessage(
                    id=int(r.id),
                    community_id=int(r.community_id),
                    chat_id=chat_id,
                    method=str(r.method),
                    params=params,
                    priority=int(r.priority),
                    attempts=int(r.attempts),
                    trace_context=dict(r.trace_context or {}),
                    idempotency_key=str(r.idempotency_key),
                    edit_of=r.edit_of,
                    edit_target=None if r.edit_target is None else int(r.edit_target),
                    unsure_after=None if r.unsure_after is None else int(r.unsure_after),
                )
            )
        if unsendable:
            async with self._db.write() as conn:
                await conn.execute(
                    update(outbox)
                    .where(outbox.c.id.in_(unsendable))
                    .values(status=DROPPED, reason="unsealable", sealed=None, lease_until=None)
                )
        claimed.sort(key=lambda m: (m.priority, m.id))
        return claimed

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
        async with self._db.write() as conn:
            await conn.execute(
                update(outbox).where(outbox.c.id == message_id).values(unreported=False)
            )

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
        high = (
            select(func.coalesce(func.max(outbox.c.sent_message_id), 0))
            .where(
                outbox.c.community_id == message.community_id,
                # The chat by its keyed hash (no chat id is stored).
                outbox.c.chat_key == chat_key(self._keys, message.community_id, message.chat_id),
                outbox.c.status == SENT,
            )
            .scalar_subquery()
        )
        async with self._db.write() as conn:
            mark = (
                await conn.execute(
                    update(outbox)
                    .where(outbox.c.id == message.id)
                    .values(unsure_after=func.coalesce(outbox.c.unsure_after, high))
                    .returning(outbox.c.unsure_after)
                )
            ).scalar_one()
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

    # -- unreachable chats -----------------------------------------------------

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

    # -- limits ----------------------------------------------------------------

    async def set_limits(self, row: LimitsRow) -> None:
        """Store a community's limits (None clears one back to the default)."""
        values = {
            "per_second": row.per_second,
            "per_private_chat_per_second": row.per_private_chat_per_second,
            "per_group_per_minute": row.per_group_per_minute,
        }
        async with self._db.write() as conn:
            await conn.execute(
                insert(community_limits)
                .values(community_id=row.community_id, **values)
                .on_conflict_do_update(
                    index_elements=[community_limits.c.community_id],
                    set_={**values, "updated_at": func.now()},
                )
            )

    async def get_limits(self, community_id: int) -> LimitsRow | None:
        """A community's stored limits, if any (primary: an operator sees their change)."""
        async with self._db.read_own() as conn:
            row = (
                await conn.execute(
                    select(community_limits).where(community_limits.c.community_id == community_id)
                )
            ).one_or_none()
        return None if row is None else _limits_row(row)

    async def all_limits(self) -> list[LimitsRow]:
        """Every stored community limit."""
        async with self._db.read() as conn:
            rows = await conn.execute(select(community_limits))
            return [_limits_row(r) for r in rows]

    # -- stats -----------------------------------------------------------------

    async def queue_stats(self) -> list[QueueStatRow]:
        """Depth and oldest age per (community, priority) of unsent messages."""
        statement = (
            select(
                outbox.c.community_id,
                outbox.c.priority,
                func.count().label("depth"),
                func.extract("epoch", func.now() - func.min(outbox.c.created_at)).label("age"),
            )
            .where(outbox.c.status.in_([QUEUED, SENDING]))
            .group_by(outbox.c.community_id, outbox.c.priority)
            .order_by(outbox.c.community_id, outbox.c.priority)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(statement)).all()
        return [
            QueueStatRow(int(r.community_id), int(r.priority), int(r.depth), float(r.age))
            for r in rows
        ]

    async def status_counts(self) -> list[StatusCountRow]:
        """Messages per community and status."""
        statement = (
            select(outbox.c.community_id, outbox.c.status, func.count().label("n"))
            .group_by(outbox.c.community_id, outbox.c.status)
            .order_by(outbox.c.community_id, outbox.c.status)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(statement)).all()
        return [StatusCountRow(int(r.community_id), str(r.status), int(r.n)) for r in rows]

    async def dead_letter_stats(self, limit: int = 50) -> list[DeadLetterStatRow]:
        """Dead letters per community, error code and description, most frequent first."""
        statement = (
            select(
                dead_letters.c.community_id,
                dead_letters.c.error_code,
                dead_letters.c.description,
                func.count().label("n"),
                func.max(dead_letters.c.created_at).label("latest"),
            )
            .group_by(
                dead_letters.c.community_id, dead_letters.c.error_code, dead_letters.c.description
            )
            .order_by(func.count().desc(), dead_letters.c.community_id)
            .limit(limit)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(statement)).all()
        return [
            DeadLetterStatRow(
                int(r.community_id), int(r.error_code), str(r.description), int(r.n), r.latest
            )
            for r in rows
        ]


def _limits_row(row: Any) -> LimitsRow:
    return LimitsRow(
        community_id=int(row.community_id),
        per_second=row.per_second,
        per_private_chat_per_second=row.per_private_chat_per_second,
        per_group_per_minute=row.per_group_per_minute,
    )


__all__ = [
    "COLLAPSED",
    "DEAD",
    "DROPPED",
    "QUEUED",
    "SENDING",
    "SENT",
    "ClaimedMessage",
    "DeadLetterStatRow",
    "LimitsRow",
    "NewMessage",
    "NotifierRepository",
    "QueueStatRow",
    "StatusCountRow",
    "UnreachableRow",
]


def _values(message: NewMessage, keys: Keyring) -> dict[str, Any]:
    """The outbox columns of a new message: its recipient keyed and sealed."""
    values: dict[str, Any] = {
        "community_id": message.community_id,
        "chat_key": chat_key(keys, message.community_id, message.chat_id),
        "method": message.method,
        "sealed": seal_call(keys, message.idempotency_key, message.chat_id, message.params),
        "priority": message.priority,
        "idempotency_key": message.idempotency_key,
        "collapse_key": message.collapse_key,
        "trace_context": message.trace_context or {},
        "edit_of": message.edit_of,
    }
    if message.not_before is not None:
        values["not_before"] = message.not_before
    return values
