"""Calls to another service written in the caller's own schema, sent on in batches.

A use case that tells another service something after its own change (the
confessions service queueing a confession's card in the notifier) could call it
at once, one RPC per change. Each RPC costs both processes far more CPU than
the row it carries (gRPC's own machinery is most of a small call), so the
change writes the call as a row of its own schema instead, and a relay sends
the rows on, many per RPC:

* :meth:`Relay.add` is one INSERT, which commits by itself right after the
  change, where the RPC used to be: a failure fails the use case, whose caller
  retries it idempotently, and the retry adds the row again (the receiver
  keeps one call per idempotency key, so a row sent twice is harmless).
* :meth:`Relay.run` wakes when this process added rows (or every ``sweep``
  seconds, for rows another replica left behind), lingers ``linger`` seconds so
  that the calls of concurrent requests join, then takes the oldest rows
  (``FOR UPDATE SKIP LOCKED``: replicas never take the same row) and deletes
  them in the transaction that sends them: a failed send rolls the delete back
  and the rows wait for the next turn. A batch the receiver *refuses* (a row it
  will never take, which would stop every row behind it) is sent again row by
  row, and the row refused alone is dropped and logged.
* A change that must take back calls still waiting (an erasure) deletes their
  rows by key in its own transaction. A row being sent stays locked until its
  send ended, so that change waits for it, and then erases downstream what was
  just sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack, suppress
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    LargeBinary,
    MetaData,
    Table,
    Text,
    bindparam,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY

from veil.core.db import Database
from veil.core.grpc_errors import refused_as_sent
from veil.core.statements import Statement

log = logging.getLogger(__name__)

# Sends the payloads of a batch, oldest first; raises when they were not taken.
Send = Callable[[list[bytes]], Awaitable[None]]
# Whether an error of Send says the receiver refuses what it was sent (which
# no retry changes), rather than that it could not take it now.
Refused = Callable[[BaseException], bool]


def relay_table(metadata: MetaData) -> Table:
    """The relay's table in a service's schema (one per service: ``relay``)."""
    return Table("relay", metadata, *_columns(), Index("relay_key_idx", "idempotency_key"))


def _columns() -> list[Column[Any]]:
    return [
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        # The call's idempotency key downstream: a change taking it back names it.
        Column("idempotency_key", Text, nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ]


class RelayMetrics:
    """What the relays of a process sent, and in how many calls."""

    def __init__(self, registry: CollectorRegistry) -> None:
        def counter(name: str, doc: str) -> Counter:
            return Counter(name, doc, ["relay"], registry=registry)

        self.relayed = counter("veil_relay_relayed", "Calls sent on by a relay")
        self.batches = counter("veil_relay_batches", "Batches a relay sent (one RPC each)")
        self.failures = counter("veil_relay_failures", "Batches whose send failed (retried)")
        self.dropped = counter("veil_relay_dropped", "Calls the receiver refused (dropped)")


class Relay:
    """One relay: its table, and how a batch is sent."""

    def __init__(
        self,
        db: Database,
        table: Table,
        send: Send,
        *,
        name: str,
        refused: Refused = lambda error: False,
        metrics: RelayMetrics | None = None,
        linger: float = 0.2,
        sweep: float = 5.0,
        batch: int = 200,
    ) -> None:
        self._db = db
        self._send = send
        self._refused = refused
        self._name = name
        self._metrics = metrics
        self._linger = linger
        self._sweep = sweep
        self._batch = batch
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._insert = Statement(
            table.insert().from_select(
                ["idempotency_key", "payload"],
                select(
                    func.unnest(bindparam("keys", type_=ARRAY(Text))),
                    func.unnest(bindparam("payloads", type_=ARRAY(LargeBinary))),
                ),
            ),
            f"{name}_relay_add",
        )
        oldest = (
            select(table.c.id)
            .order_by(table.c.id)
            .limit(bindparam("batch", type_=BigInteger))
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        self._take = Statement(
            delete(table).where(table.c.id.in_(oldest)).returning(table.c.id, table.c.payload),
            f"{name}_relay_take",
        )

    async def add(self, keys: Sequence[str], payloads: Sequence[bytes]) -> None:
        """Write calls (their keys downstream, their wire forms); sent soon after."""
        if not payloads:
            return
        await self._db.execute(self._insert, keys=list(keys), payloads=list(payloads))
        self._wake.set()

    async def drain(self) -> int:
        """Send one batch of the oldest waiting calls; how many were sent."""
        async with self._db.transaction() as conn:
            rows = await self._take.fetch(conn, batch=self._batch)
            if not rows:
                return 0
            rows.sort(key=lambda row: row["id"])
            dropped = 0
            # Raising here rolls the delete back: the rows wait for the next turn.
            try:
                await self._send([bytes(row["payload"]) for row in rows])
            except Exception as error:
                if not self._refused(error):
                    raise
                dropped = await self._one_by_one(rows)
        if self._metrics is not None:
            self._metrics.relayed.labels(self._name).inc(len(rows) - dropped)
            self._metrics.batches.labels(self._name).inc()
        return len(rows)

    async def _one_by_one(self, rows: list[Any]) -> int:
        """Send a refused batch's rows alone; drop each one refused alone (how many)."""
        dropped = 0
        for row in rows:
            try:
                await self._send([bytes(row["payload"])])
            except Exception as error:
                if not self._refused(error):
                    raise
                dropped += 1
                if self._metrics is not None:
                    self._metrics.dropped.labels(self._name).inc()
                log.error(
                    "relay call refused; dropped",
                    extra={"relay": self._name, "row": row["id"], "error": str(error)[:200]},
                )
        return dropped

    async def run(self) -> None:
        """Send batches whenever calls were added (or every ``sweep`` s) until
        :meth:`stop`, which the last turn still sends for."""
        pause = self._linger
        while True:
            stopping = self._stopping.is_set()
            if not stopping:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._sweep)
                self._wake.clear()
                # Calls of concurrent requests join the batch meanwhile.
                await asyncio.sleep(0 if self._stopping.is_set() else pause)
            try:
                while await self.drain() == self._batch:
                    pass
                pause = self._linger
            except Exception as error:
                if self._metrics is not None:
                    self._metrics.failures.labels(self._name).inc()
                log.warning(
                    "relay batch not sent; retried",
                    extra={"relay": self._name, "error_type": type(error).__name__},
                )
                # Back off while the other side is away; the rows keep.
                pause = min(self._sweep, max(0.5, pause * 2))
                self._wake.set()
            if stopping:
                return

    def stop(self) -> None:
        """End :meth:`run` after one more turn (what waits then is sent, or left
        in the table for the next replica's sweep)."""
        self._stopping.set()
        self._wake.set()

    def start(self, closing: AsyncExitStack) -> None:
        """Run :meth:`run` until ``closing`` closes."""
        task = asyncio.get_running_loop().create_task(self.run(), name=f"relay-{self._name}")

        async def stop() -> None:
            # Stopped by a flag rather than by cancelling: in the suite a
            # cancellation of this task was lost and the loop ran a whole
            # sweep longer. The flag ends it after a turn that sends what waits.
            self.stop()
            try:
                await asyncio.wait_for(task, self._sweep)
            except Exception as error:
                log.warning(
                    "relay not drained at shutdown",
                    extra={"relay": self._name, "error_type": type(error).__name__},
                )

        closing.push_async_callback(stop)


def start_relay(
    closing: AsyncExitStack,
    db: Database,
    table: Table,
    send: Send,
    *,
    name: str,
    registry: CollectorRegistry,
    linger: float,
) -> Relay:
    """A service's relay to another gRPC service, running until ``closing``
    closes: what that service refuses as sent (``refused_as_sent``) is dropped,
    and the relay's counters are in ``registry``."""
    relay = Relay(
        db,
        table,
        send,
        name=name,
        refused=refused_as_sent,
        metrics=RelayMetrics(registry),
        linger=linger,
    )
    relay.start(closing)
    return relay


def create_relay_table(op: Any) -> None:
    """The migration that adds a service's relay table (``op``: Alembic's)."""
    op.create_table("relay", *_columns())
    op.create_index("relay_key_idx", "relay", ["idempotency_key"])


def drop_relay_table(op: Any, schema: str) -> None:
    """Its downgrade: refused while calls still wait (they would be lost; the new
    code, still running, sends them within a moment)."""
    waiting = op.get_bind().execute(text("SELECT count(*) FROM relay")).scalar_one()
    if waiting:
        raise RuntimeError(f"{waiting} calls wait in {schema}.relay; retry once they are sent")
    op.drop_index("relay_key_idx", "relay")
    op.drop_table("relay")
