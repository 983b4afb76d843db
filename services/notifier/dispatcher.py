"""The worker's domain: claim chat heads, wait for a slot, send, record the outcome.

One message's life in a worker:

1. claimed (``sending``, leased) as the head of its chat (see repository._CLAIM);
2. a sending slot reserved for its bot and chat (:mod:`services.notifier.limiter`),
   waited for; a slot further away than the horizon puts it back with ``retry_at``;
3. one Bot API call;
4. the outcome recorded at once: ``sent`` in one tiny UPDATE (the only time in
   which a crash makes Telegram get it twice), a retry with backoff, a pause on
   429, a dead letter, or the chat marked unreachable on 403.

On SIGTERM nothing new is claimed; messages still waiting for a slot go back to
the queue, calls already made are finished and recorded.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass

from services.notifier.directory import BotTokens, MemberDirectory, Publications
from services.notifier.limiter import FloodLimiter, Limits, is_private
from services.notifier.metrics import WorkerMetrics
from services.notifier.repository import ClaimedMessage, NotifierRepository
from services.notifier.telegram import Answer, BotApi, Outcome
from veil.core.outbox import parse_publication_key
from veil.core.telemetry import annotate, linked_span, quiet

log = logging.getLogger(__name__)

# A slot may be missed by this much (the event loop was busy) before it is given
# up for a fresh one: a late send could otherwise arrive inside the next window.
_LATE_SECONDS = 0.02


@dataclass(frozen=True)
class DispatchConfig:
    """Tuning of one worker (from :class:`WorkerSettings`)."""

    worker_id: str
    lease_seconds: float
    batch_size: int
    max_in_flight: int
    poll_seconds: float
    max_attempts: int
    backoff_base_seconds: float
    backoff_cap_seconds: float
    refresh_seconds: float
    defaults: Limits


def backoff(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter for the ``attempt``-th failure (1-based)."""
    return random.uniform(base / 2, min(cap, base * 2 ** (attempt - 1)))


class LimitsCache:
    """Per-community limits from the notifier schema, defaults where none are set."""

    def __init__(self, repository: NotifierRepository, defaults: Limits, refresh: float) -> None:
        self._repository = repository
        self._defaults = defaults
        self._refresh = refresh
        self._limits: dict[int, Limits] = {}
        self._loaded_at = float("-inf")
        self._lock = asyncio.Lock()

    async def get(self, community_id: int) -> Limits:
        """The limits a community's bot sends under."""
        if time.monotonic() - self._loaded_at >= self._refresh:
            async with self._lock:
                if time.monotonic() - self._loaded_at >= self._refresh:
                    rows = await self._repository.all_limits()
                    d = self._defaults
                    self._limits = {
                        r.community_id: Limits(
                            r.per_second or d.per_second,
                            r.per_private_chat_per_second or d.per_private_chat_per_second,
                            r.per_group_per_minute or d.per_group_per_minute,
                        )
                        for r in rows
                    }
                    self._loaded_at = time.monotonic()
        return self._limits.get(community_id, self._defaults)


class Dispatcher:
    """Claims and delivers messages until stopped."""

    def __init__(
        self,
        config: DispatchConfig,
        repository: NotifierRepository,
        limiter: FloodLimiter,
        api: BotApi,
        tokens: BotTokens,
        members: MemberDirectory,
        metrics: WorkerMetrics,
        publications: Publications | None = None,
    ) -> None:
        self._config = config
        self._repository = repository
        self._limiter = limiter
        self._api = api
        self._tokens = tokens
        self._members = members
        self._metrics = metrics
        self._publications = publications
        self._limits = LimitsCache(repository, config.defaults, config.refresh_seconds)
        self._stopping = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()

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
            if wanted > 0:
                try:
                    with quiet():  # a poll is not worth a trace; each delivery gets one
                        claimed = await self._repository.claim(
                            self._config.worker_id,
                            wanted,
                            per_bot=self._config.batch_size,
                            lease_seconds=self._config.lease_seconds,
                        )
                except Exception:
                    log.exception("claim failed")
            for message in claimed:
                task = asyncio.create_task(self._deliver(message))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            self._metrics.in_flight.set(len(self._tasks))
            if len(claimed) < wanted or wanted <= 0:
                # Nothing more is due, or this worker is full: wait a little.
                await self._sleep(self._config.poll_seconds)
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _sleep(self, seconds: float) -> bool:
        """Sleep; True when stopped meanwhile."""
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True

    async def _deliver(self, message: ClaimedMessage) -> None:
        # One trace per delivery attempt, linked to the trace that queued the message.
        attributes: dict[str, str | int] = {
            "veil.community_id": message.community_id,
            "veil.outbox_id": message.id,
            "veil.attempt": message.attempts,
            "telegram.method": message.method,
        }
        with linked_span(f"deliver {message.method}", message.trace_context, attributes):
            try:
                await self._deliver_once(message)
            except Exception:
                # Postgres or Redis failing mid-way: the lease runs out and the message
                # is claimed again; nothing is lost.
                log.exception("delivery failed", extra={"outbox_id": message.id})

    async def _deliver_once(self, message: ClaimedMessage) -> None:
        token = await self._tokens.token(message.community_id)
        if token is None:
            await self._retry_or_dead(message, Answer(Outcome.TRANSIENT, 0, "unknown community"))
            return
        if not await self._wait_for_slot(message):
            return
        # From here the call is made and its outcome recorded, even on SIGTERM.
        await asyncio.shield(self._send(message, token))

    async def _wait_for_slot(self, message: ClaimedMessage) -> bool:
        """Sleep until this message may leave; False when it went back to the queue."""
        limits = await self._limits.get(message.community_id)
        give_back_after = time.monotonic() + self._config.lease_seconds / 3
        loop = asyncio.get_running_loop()
        while True:
            if self._stopping.is_set():
                await self._repository.release([message.id], self._config.worker_id)
                return False
            reservation = await self._limiter.reserve(message.community_id, message.chat_id, limits)
            if not reservation.granted:
                if time.monotonic() + reservation.wait_seconds > give_back_after:
                    await self._repository.retry_later(
                        message.id,
                        self._config.worker_id,
                        reservation.wait_seconds,
                        "throttled",
                        count=False,
                    )
                    return False
                await self._sleep(max(0.05, reservation.wait_seconds / 2))
                continue
            due = loop.time() + reservation.wait_seconds
            if reservation.wait_seconds > 0 and await self._sleep(reservation.wait_seconds):
                continue  # stopped while waiting: give it back (top of the loop)
            if loop.time() - due <= _LATE_SECONDS:
                return True
            # Woke up too late for this slot: take a new one.

    async def _send(self, message: ClaimedMessage, token: str) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        answer = await self._api.call(token, message.method, message.params)
        answered = loop.time()
        annotate({"veil.outcome": answer.outcome.value, "telegram.error_code": answer.error_code})
        community = str(message.community_id)
        self._metrics.send_seconds.observe(answered - started)
        if answer.outcome is Outcome.SENT:
            await self._repository.mark_sent(message.id)
            committed = loop.time()
            self._metrics.sent.labels(community).inc()
            self._metrics.record_window(committed - answered, committed - started)
            await self._report_publication(message, answer)
        elif answer.outcome is Outcome.FLOOD:
            self._metrics.too_many_requests.labels(community).inc()
            await self._limiter.pause(message.community_id, message.chat_id, answer.retry_after)
            await self._repository.retry_later(
                message.id,
                self._config.worker_id,
                answer.retry_after,
                answer.description,
                count=False,
            )
            log.warning(
                "429 from Telegram",
                extra={"community": message.community_id, "retry_after": answer.retry_after},
            )
        elif answer.outcome is Outcome.BLOCKED:
            dropped = await self._repository.mark_blocked(
                message.community_id, message.chat_id, message.id, answer.description
            )
            self._metrics.dropped.labels(community).inc(dropped)
            if is_private(message.chat_id):
                # A private chat's id is the member's Telegram user id.
                await self._members.mark_unreachable(message.community_id, message.chat_id)
            log.info(
                "chat blocked the bot; its messages dropped",
                extra={
                    "community": message.community_id,
                    "outbox_id": message.id,
                    "dropped": dropped,
                },
            )
        elif answer.outcome is Outcome.REJECTED:
            await self._dead(message, answer)
        else:
            await self._retry_or_dead(message, answer)

    async def _report_publication(self, message: ClaimedMessage, answer: Answer) -> None:
        """A confession's channel post was sent: its id goes back to the confessions service."""
        publication = parse_publication_key(message.idempotency_key)
        if publication is None or self._publications is None or not answer.message_id:
            return
        community_id, confession_id = publication
        if not await self._publications.record(community_id, confession_id, answer.message_id):
            log.warning(
                "channel post not recorded",
                extra={"community": community_id, "outbox_id": message.id},
            )

    async def _retry_or_dead(self, message: ClaimedMessage, answer: Answer) -> None:
        if message.attempts >= self._config.max_attempts:
            await self._dead(message, answer)
            return
        delay = backoff(
            message.attempts, self._config.backoff_base_seconds, self._config.backoff_cap_seconds
        )
        self._metrics.retries.labels(str(message.community_id)).inc()
        await self._repository.retry_later(
            message.id, self._config.worker_id, delay, answer.description, count=True
        )

    async def _dead(self, message: ClaimedMessage, answer: Answer) -> None:
        await self._repository.dead_letter(message.id, answer.error_code, answer.description)
        self._metrics.dead_letters.labels(str(message.community_id)).inc()
        log.warning(
            "message dead-lettered",
            extra={
                "community": message.community_id,
                "outbox_id": message.id,
                "error_code": answer.error_code,
                "attempts": message.attempts,
            },
        )
