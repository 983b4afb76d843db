"""Leasing chat heads to workers, in each chat's order."""

from __future__ import annotations

import logging

from sqlalchemy import bindparam, text, update

from services.notifier.models import outbox
from services.notifier.recipients import (
    open_call,
)
from services.notifier.repository.base import RepositoryBase
from services.notifier.repository.rows import (
    DROPPED,
    ClaimedMessage,
)
from veil.core.sealing import SealingError

log = logging.getLogger(__name__)


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


class Claims(RepositoryBase):
    """The worker's claim of due messages."""

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
        of an idle queue is one statement, not three). Long but one step: the
        claim, the opening of each row and the drop of those that cannot be
        opened are one lease's handling.
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
