"""The worker's domain: claim chat heads, wait for a slot, send, record the outcome.

One message's life in a worker:

1. claimed (``sending``, leased) as the head of its chat (see repository/claims.py);
2. a sending slot reserved for its bot and chat (:mod:`services.notifier.worker.flood_limiter`),
   waited for; a slot further away than the horizon puts it back with ``retry_at``;
3. one Bot API call;
4. the outcome recorded at once (:mod:`.outcomes`): ``sent`` in one tiny UPDATE, shared with the
   messages answered while the previous one was written (:mod:`.sent_marks`;
   the only time in which a crash makes Telegram get it twice), a retry with
   backoff, a pause on 429, a dead letter, or the chat marked unreachable on 403.

On SIGTERM nothing new is claimed; messages still waiting for a slot go back to
the queue, calls already made are finished and recorded.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import Counter, defaultdict
from dataclasses import replace
from functools import partial
from typing import Literal

from services.notifier.erasure import QueueErasure
from services.notifier.repository import NotifierRepository
from services.notifier.repository.rows import ClaimedMessage
from services.notifier.worker.directory import BotTokens, MemberDirectory, Publications
from services.notifier.worker.flood_limiter import FloodLimiter
from services.notifier.worker.metrics import WorkerMetrics
from services.notifier.worker.outcomes import OutcomeRecorder
from services.notifier.worker.reconcile import find_copy, reconcilable
from services.notifier.worker.telegram import Answer, BotApi, Outcome
from services.notifier.worker.tuning import LimitsCache, SenderConfig
from veil.core.telemetry import annotate, linked_span, quiet

log = logging.getLogger(__name__)


class OutboxSender:
    """Claims and delivers messages until stopped."""

    def __init__(
        self,
        config: SenderConfig,
        repository: NotifierRepository,
        limiter: FloodLimiter,
        api: BotApi,
        tokens: BotTokens,
        members: MemberDirectory,
        metrics: WorkerMetrics,
        publications: Publications | None = None,
        erasure: QueueErasure | None = None,
    ) -> None:
        self._config = config
        self._repository = repository
        self._limiter = limiter
        self._api = api
        self._tokens = tokens
        self._members = members
        self._metrics = metrics
        self._publications = publications
        self._erasure = erasure
        self._outcomes = OutcomeRecorder(
            config, repository, limiter, members, metrics, publications
        )
        self._limits = LimitsCache(repository, config.defaults, config.refresh_seconds)
        self._stopping = asyncio.Event()
        self._stop_waiter: asyncio.Task[Literal[True]] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # Bots whose slots are taken far ahead, until when (see _saturate).
        self._saturated: dict[int, float] = {}
        # Messages this worker holds per community.
        self._held: Counter[int] = Counter()
        # Whose turn it is to ask for a slot of a bot (see _wait_for_slot).
        self._turns: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)

    @property
    def in_flight(self) -> int:
        """Messages this worker holds now."""
        return len(self._tasks)

    def stop(self) -> None:
        """Stop claiming; waiting messages go back to the queue."""
        self._stopping.set()

    async def run(self) -> None:
        """Claim and deliver until :meth:`stop`, then drain."""
        while not self._stopping.is_set():
            wanted = min(self._config.max_in_flight - len(self._tasks), self._config.batch_size)
            claimed: list[ClaimedMessage] = []
            # Before the claim: the lease the database grants starts later than this.
            claimed_at = time.monotonic()
            if wanted > 0:
                try:
                    with quiet():  # a poll is not worth a trace; each delivery gets one
                        claimed = await self._repository.claim(
                            self._config.worker_id,
                            wanted,
                            per_bot=self._config.batch_size,
                            lease_seconds=self._config.lease_seconds,
                            skip=await self._full_bots(),
                        )
                except Exception:
                    log.exception("claim failed")
            for message in claimed:
                task = asyncio.create_task(self._deliver(message, claimed_at))
                self._tasks.add(task)
                self._held[message.community_id] += 1
                task.add_done_callback(self._tasks.discard)
                task.add_done_callback(partial(self._release_hold, message.community_id))
            self._metrics.in_flight.set(len(self._tasks))
            if len(claimed) < wanted or wanted <= 0:
                # Nothing more is due, or this worker is full: wait a little.
                await self._sleep(self._config.poll_seconds)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _release_hold(self, community_id: int, _: asyncio.Task[None]) -> None:
        self._held[community_id] -= 1
        if self._held[community_id] <= 0:
            del self._held[community_id]

    async def _full_bots(self) -> list[int]:
        """Communities not to claim for now.

        Those whose slots are taken far ahead (see :meth:`_saturate`), and those
        of which this worker already holds what their bot can send in a quarter
        of a lease: more would wait for slots other workers take, then go back.
        """
        now = time.monotonic()
        self._saturated = {c: t for c, t in self._saturated.items() if t > now}
        full = set(self._saturated)
        # A copy: deliveries finishing during the await below change the dict.
        for community_id, held in list(self._held.items()):
            limits = await self._limits.get(community_id)
            if held >= max(1.0, limits.per_second * self._config.lease_seconds / 4):
                full.add(community_id)
        return sorted(full)

    async def _sleep(self, seconds: float) -> bool:
        """Sleep; True when stopped meanwhile (one shared waiter, no task per sleep)."""
        waiter = self._stop_waiter
        if waiter is None:
            waiter = self._stop_waiter = asyncio.create_task(self._stopping.wait())
        await asyncio.wait((waiter,), timeout=seconds)
        return self._stopping.is_set()

    async def _deliver(self, message: ClaimedMessage, claimed_at: float) -> None:
        # One trace per delivery attempt, linked to the trace that queued the message.
        attributes: dict[str, str | int] = {
            "veil.community_id": message.community_id,
            "veil.outbox_id": message.id,
            "veil.attempt": message.attempts,
            "telegram.method": message.method,
        }
        with linked_span(f"deliver {message.method}", message.trace_context, attributes):
            try:
                await self._deliver_once(message, claimed_at)
            except Exception:
                # Postgres or Redis failing mid-way: the lease runs out and the message
                # is claimed again; nothing is lost.
                log.exception("delivery failed", extra={"outbox_id": message.id})

    async def _deliver_once(self, message: ClaimedMessage, claimed_at: float) -> None:
        if message.edit_of:
            if message.edit_target is None:
                # The message it edits was never sent (erased while queued).
                if self._erasure is not None:
                    await self._erasure.drop_edit(message.id, self._config.worker_id)
                return
            message = replace(message, params={**message.params, "message_id": message.edit_target})
        token = await self._tokens.token(message.community_id)
        if token is None:
            await self._outcomes.retry_or_dead(
                message, Answer(Outcome.TRANSIENT, 0, "unknown community")
            )
            return
        if message.unsure_after is not None and reconcilable(message):
            # An earlier attempt may have arrived unrecorded: look before sending.
            found = await find_copy(self._api, token, message)
            if found is not None:
                await self._send(message, token, None, found)
                return
        slot = await self._wait_for_slot(message, claimed_at)
        if slot is None:
            return
        # From here the call is made and its outcome recorded, even on SIGTERM.
        await asyncio.shield(self._send(message, token, slot))

    async def _wait_for_slot(self, message: ClaimedMessage, claimed_at: float) -> str | None:
        """Sleep until this message may leave; its reservation, or None when given back.

        A message leaves within the first half of its lease (the validated
        settings keep the request timeout below the other half), so its call
        is over before another worker could claim it again. One loop on purpose:
        the turn, the reservation and the deadline are one state machine, which
        pieces would have to hand back and forth.
        """
        limits = await self._limits.get(message.community_id)
        send_by = claimed_at + self._config.lease_seconds / 2
        late = self._limiter.late_seconds(limits)
        loop = asyncio.get_running_loop()
        horizon = self._limiter.horizon_seconds
        while True:
            if self._stopping.is_set():
                await self._repository.release([message.id], self._config.worker_id)
                return None
            # One message per bot at a time asks for a slot (the others of this
            # worker wait here without a Redis call); it keeps the turn while
            # the bot itself is what it waits for.
            async with self._turns[message.community_id]:
                while True:
                    reservation = await self._limiter.reserve(
                        message.community_id,
                        message.chat_id,
                        limits,
                        f"{message.id}:{message.attempts}:{secrets.token_hex(4)}",
                        within=send_by - time.monotonic(),
                    )
                    wait = reservation.wait_seconds
                    if (
                        reservation.granted
                        or reservation.bot_wait_seconds <= horizon
                        or time.monotonic() + wait >= send_by
                        or await self._sleep(max(0.02, wait - horizon / 2))
                    ):
                        break
            if not reservation.granted:
                if time.monotonic() + wait < send_by and not self._stopping.is_set():
                    # Only the chat's limit is in the way: wait for it alone.
                    await self._sleep(max(0.02, wait - horizon / 2))
                    continue
                self._saturate(message.community_id, reservation.bot_wait_seconds)
                self._metrics.throttled.labels(str(message.community_id)).inc()
                await self._repository.retry_later(
                    message.id, self._config.worker_id, wait, "throttled", count=False
                )
                return None
            due = loop.time() + wait
            if wait > 0 and await self._sleep(wait):
                # Stopped while waiting: free the slot, give the message back.
                await self._limiter.cancel(message.community_id, message.chat_id, reservation.token)
                continue
            if loop.time() - due > late:
                # Woken late (a busy event loop): the slot assumed an earlier
                # arrival, so count it from now before it leaves.
                self._metrics.missed_slots.labels(str(message.community_id)).inc()
                await self._limiter.confirm_late(
                    message.community_id, message.chat_id, limits, reservation.token
                )
            if time.monotonic() < send_by:
                return reservation.token
            await self._limiter.cancel(message.community_id, message.chat_id, reservation.token)

    def _saturate(self, community_id: int, wait: float) -> None:
        """The bot's next free slot is ``wait`` away: claim none of its messages until near it.

        Claimed now, they would only be given back: a claim is useful once the
        slot is within the half lease a message may wait.
        """
        until = time.monotonic() + wait - self._config.lease_seconds / 2
        if until > time.monotonic() and until > self._saturated.get(community_id, 0.0):
            self._saturated[community_id] = until

    async def _send(
        self, message: ClaimedMessage, token: str, slot: str | None, known: Answer | None = None
    ) -> None:
        """Make the call (or take ``known``: a reconciled copy, no slot) and record its outcome."""
        loop = asyncio.get_running_loop()
        if known is None and reconcilable(message):
            # Until the outcome is recorded, a copy may exist (worker/reconcile.py).
            await self._repository.mark_unsure(message)
        started = loop.time()
        answer = known or await self._api.call(token, message.method, message.params)
        answered = loop.time()
        annotate({"veil.outcome": answer.outcome.value, "telegram.error_code": answer.error_code})
        self._metrics.send_seconds.observe(answered - started)
        if slot is not None and (answer.error_code or answer.outcome is Outcome.SENT):
            # Telegram answered, so the message arrived before the answer. This
            # comes before the sent-marker: once that is committed the chat's next
            # message may be claimed, and its slot must count from this answer.
            # (Without an answer the reservation keeps its pessimistic bound.)
            await self._limiter.complete(message.community_id, message.chat_id, slot, answered)
        await self._outcomes.record(message, answer, started, answered)
