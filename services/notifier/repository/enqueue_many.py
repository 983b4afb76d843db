"""Queueing messages in one statement: one (a card, a notice, an edit) or several
(a comment's counter edit and its notices).

The batch arrives as arrays, one per column, unnested in request order. A
repeated idempotency key is
skipped (``ON CONFLICT DO NOTHING``), and each new message with a collapse key
collapses the older queued ones of its community in a CTE of the same
statement, unless the older one is weightier (a lower priority number: an
erasure's edit of a channel post outranks a comment counter's edit of it); a
new message that finds a weightier one with its collapse key queued, being
sent or already sent is stored collapsed itself: it would undo it.
The final SELECT gives every message its id: the new row's, or the
stored one of a repeated key. A statement runs atomically on its own: no
BEGIN/COMMIT round trips (a transaction took 2 + 1 + 1–2 per message).

A statement does not see its own inserts, so a batch that repeats a collapse
key (the relay's follow-ups of several comments on one thread: each one's
counter edit) has the messages that others of it supersede marked beforehand
(:func:`superseded_within`) and stored collapsed. A batch comes here with each
idempotency key once (:meth:`NotifierRepository.enqueue` gives a repeat the
first's id); a key committed by a concurrent call after this statement's
snapshot has its id read in a second statement here.

Recipients are sealed (services/notifier/recipients.py): each message arrives
with its chat's keyed hash (``chat_key``, for per-chat order) and its sealed
recipient and parameters (``sealed``), both ``bytea``; a message collapsed here
keeps no recipient (``sealed`` NULL).

Compiled once and run on asyncpg (veil.core.statements): Enqueue is on the path
of every card, post and notice, and through the engine the statement cost
more client CPU than everything else the call does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text

from services.notifier.models import WEIGHTY_BELOW
from services.notifier.repository.rows import COLLAPSED, QUEUED, STANDING
from veil.core.db import Database
from veil.core.statements import Statement

_STANDING = ", ".join(f"'{status}'" for status in STANDING)

_ENQUEUE = Statement(
    text(
        f"""
WITH input AS (
    SELECT * FROM unnest(
        CAST(:community_ids AS bigint[]), CAST(:chat_keys AS bytea[]),
        CAST(:methods AS text[]), CAST(:sealed AS bytea[]), CAST(:priorities AS smallint[]),
        CAST(:keys AS text[]), CAST(:collapse_keys AS text[]),
        CAST(:not_befores AS timestamptz[]), CAST(:trace_contexts AS text[]),
        CAST(:edit_ofs AS text[]), CAST(:superseded AS boolean[])
    ) WITH ORDINALITY AS i(community_id, chat_key, method, sealed, priority, idempotency_key,
                           collapse_key, not_before, trace_context, edit_of, superseded, ord)
), new AS (
    INSERT INTO notifier.outbox
        (community_id, chat_key, method, sealed, priority, idempotency_key, collapse_key,
         not_before, trace_context, edit_of, status)
    SELECT i.community_id, i.chat_key, i.method,
           CASE WHEN w.dropped THEN NULL ELSE i.sealed END, i.priority,
           i.idempotency_key, i.collapse_key, COALESCE(i.not_before, now()),
           CAST(i.trace_context AS jsonb), i.edit_of,
           CASE WHEN w.dropped THEN CAST(:collapsed AS text) ELSE CAST(:queued AS text) END
    FROM input i
    -- A weightier message with the same collapse key, queued, being sent or
    -- sent (an erasure's or a take-down's edit of a channel post), is not
    -- undone by a lesser one coming after it (a comment counter's edit): that
    -- one is dropped. A collapse key is the community's, as below; the
    -- priority bound is a literal so that the partial index of weighty
    -- messages serves.
    -- A message a later one of its batch supersedes (see superseded_within)
    -- is stored collapsed without looking.
    CROSS JOIN LATERAL (
        SELECT i.superseded OR (i.collapse_key IS NOT NULL AND EXISTS (
            SELECT 1 FROM notifier.outbox o
            WHERE o.collapse_key = i.collapse_key AND o.community_id = i.community_id
              AND o.priority < {WEIGHTY_BELOW} AND o.priority < i.priority
              AND o.status IN ({_STANDING})
        )) AS dropped
    ) w
    ORDER BY i.ord
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, idempotency_key, community_id, collapse_key, priority, status
), collapsing AS (
    UPDATE notifier.outbox o
    SET status = CAST(:collapsed AS text), reason = 'collapsed by ' || n.id, sealed = NULL
    FROM new n
    WHERE n.collapse_key IS NOT NULL AND n.status = CAST(:queued AS text)
      AND o.collapse_key = n.collapse_key AND o.community_id = n.community_id
      AND o.status = CAST(:queued AS text) AND o.id < n.id AND o.priority >= n.priority
)
-- The statement's snapshot shows the rows stored before it, not its own inserts.
SELECT i.ord, n.id AS new_id, o.id AS old_id
FROM input i
LEFT JOIN new n ON n.idempotency_key = i.idempotency_key
LEFT JOIN notifier.outbox o ON o.idempotency_key = i.idempotency_key
ORDER BY i.ord
"""
    ),
    "enqueue",
)

_EXISTING = Statement(
    text(
        "SELECT idempotency_key, id FROM notifier.outbox "
        "WHERE idempotency_key = ANY(CAST(:keys AS text[]))"
    ),
    "enqueued ids",
)


def superseded_within(values: Sequence[dict[str, Any]]) -> list[bool]:
    """Which messages of a batch another message of the same batch leaves
    collapsed, as queueing them one by one would.

    Per collapse key at most one message of a batch stays: a message collapses
    the earlier ones that are not weightier than it, and a message after a
    weightier one is collapsed itself. The one left is at least as weighty as
    every one it superseded, so what it collapses among the stored messages,
    and what would collapse it, is what theirs would have been.
    """
    superseded = [False] * len(values)
    standing: dict[tuple[int, str], int] = {}
    for index, value in enumerate(values):
        key = value.get("collapse_key")
        if key is None:
            continue
        slot = (int(value["community_id"]), str(key))
        earlier = standing.get(slot)
        if earlier is not None and values[earlier]["priority"] < value["priority"]:
            superseded[index] = True
            continue
        if earlier is not None:
            superseded[earlier] = True
        standing[slot] = index
    return superseded


async def enqueue_many(
    db: Database,
    values: Sequence[dict[str, Any]],
) -> tuple[list[int], int]:
    """Queue the messages with column ``values``: (their ids in order, how many are new)."""
    keys = [str(v["idempotency_key"]) for v in values]
    not_befores: list[datetime | None] = [v.get("not_before") for v in values]
    params: dict[str, Any] = {
        "community_ids": [v["community_id"] for v in values],
        "chat_keys": [v["chat_key"] for v in values],
        "methods": [v["method"] for v in values],
        "sealed": [v["sealed"] for v in values],
        "priorities": [v["priority"] for v in values],
        "keys": keys,
        "collapse_keys": [v.get("collapse_key") for v in values],
        "not_befores": not_befores,
        "trace_contexts": [orjson.dumps(v.get("trace_context") or {}).decode() for v in values],
        "edit_ofs": [v.get("edit_of") for v in values],
        "superseded": superseded_within(values),
        "queued": QUEUED,
        "collapsed": COLLAPSED,
    }
    # Each statement commits by itself; the second reads keys that a concurrent
    # call committed after the first one's snapshot.
    rows = await db.fetch(_ENQUEUE, **params)
    ids = {key: r["new_id"] or r["old_id"] for key, r in zip(keys, rows, strict=True)}
    missing = [key for key, id_ in ids.items() if id_ is None]
    if missing:
        for row in await db.fetch(_EXISTING, keys=missing):
            ids[row["idempotency_key"]] = row["id"]
    accepted = sum(1 for r in rows if r["new_id"] is not None)
    return [int(ids[key]) for key in keys], accepted
