"""What a worker records for each of Telegram's answers.

``sent`` in one tiny UPDATE shared with the messages answered while the previous one was
written (:mod:`.sent_marks`), a channel post's or card's id reported to the confessions
service, a pause on 429, the chat's messages dropped on 403, a retry with backoff, or a
dead letter.
"""

from __future__ import annotations

import asyncio
import logging

from services.notifier.repository import NotifierRepository
from services.notifier.repository.rows import ClaimedMessage
from services.notifier.worker.directory import MemberDirectory, Publications
from services.notifier.worker.flood_limiter import FloodLimiter, is_private
from services.notifier.worker.metrics import WorkerMetrics
from services.notifier.worker.sent_marks import SentMarks
from services.notifier.worker.telegram import Answer, Outcome
from services.notifier.worker.tuning import SenderConfig, backoff
from veil.core.outbox import parse_publication_key

log = logging.getLogger(__name__)


class OutcomeRecorder:
    """Records each answer: sent (and reported), paused on 429, dropped on 403, retried or dead."""

    def __init__(
        self,
        config: SenderConfig,
        repository: NotifierRepository,
        limiter: FloodLimiter,
        members: MemberDirectory,
        metrics: WorkerMetrics,
        publications: Publications | None = None,
    ) -> None:
        self._config = config
        self._repository = repository
        self._limiter = limiter
        self._members = members
        self._metrics = metrics
        self._publications = publications
        self._sent = SentMarks(repository)

    async def record(
        self, message: ClaimedMessage, answer: Answer, started: float, answered: float
    ) -> None:
        """Record Telegram's ``answer`` to ``message`` (its call started and was answered at
        the event loop's ``started`` and ``answered``)."""
        loop = asyncio.get_running_loop()
        community = str(message.community_id)
        if answer.outcome is Outcome.SENT:
            # Until this commit a crash sends the message twice (it rides with
            # the marks of the messages answered while the previous was written).
            post = parse_publication_key(message.idempotency_key) is not None
            await self._sent.mark(
                message.id, answer.message_id or None, unreported=post and bool(answer.message_id)
            )
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
                # A 429 is a refusal: this attempt did not arrive (an earlier one may have).
                sure=message.unsure_after is None,
            )
            log.warning(
                "429 from Telegram",
                extra={"community": message.community_id, "retry_after": answer.retry_after},
            )
        elif answer.outcome is Outcome.BLOCKED:
            dropped = await self._repository.drop_blocked(
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
        elif answer.outcome is Outcome.TRANSIENT:
            await self.retry_or_dead(message, answer)

    async def _report_publication(self, message: ClaimedMessage, answer: Answer) -> None:
        """A confession's channel post was sent: its id goes back to the confessions service."""
        publication = parse_publication_key(message.idempotency_key)
        if publication is None or self._publications is None or not answer.message_id:
            return
        community_id, confession_id = publication
        stored = await self._publications.record(community_id, confession_id, answer.message_id)
        if stored is None:
            # Reported again later by a worker (worker/reports.py): the row stays unreported.
            log.warning(
                "channel post not recorded",
                extra={"community": community_id, "outbox_id": message.id},
            )
            return
        await self._repository.mark_reported(message.id)

    async def retry_or_dead(self, message: ClaimedMessage, answer: Answer) -> None:
        """Retry with backoff, or give up once the attempts are spent."""
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
        """Dead-letter the message with Telegram's answer."""
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
