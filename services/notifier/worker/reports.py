"""Channel posts whose id never reached the confessions service, reported again.

A post's message id exists nowhere but in Telegram's answer: the worker that
sent it reports it (``RecordPublication``, retried a few times) and the row
stays ``unreported`` until that is answered. When every retry failed (the
confessions service down for longer), or the worker died in between, the
confession would stay ``approved`` for ever, without its comment counter.
Every worker looks for such rows a lease after they were sent and reports
them again (RecordPublication is idempotent: a second report changes nothing).
"""

from __future__ import annotations

import asyncio
import logging

from services.notifier.repository import NotifierRepository
from services.notifier.worker.directory import Publications
from veil.core.outbox import parse_publication_key
from veil.core.telemetry import quiet

log = logging.getLogger(__name__)


async def report_once(
    repository: NotifierRepository, publications: Publications, older_than: float
) -> int:
    """Report the posts still unreported ``older_than`` seconds after sending; how many got in."""
    reported = 0
    for post in await repository.unreported(older_than):
        publication = parse_publication_key(post.idempotency_key)
        if publication is not None and post.message_id:
            community_id, confession_id = publication
            if await publications.record(community_id, confession_id, post.message_id) is None:
                continue  # still no answer: next round
            log.info("channel post reported late", extra={"community": community_id})
        await repository.mark_reported(post.id)
        reported += 1
    return reported


async def report_forever(
    repository: NotifierRepository, publications: Publications, every: float, older_than: float
) -> None:
    """Run :func:`report_once` every ``every`` seconds (a worker's background task)."""
    while True:
        try:
            with quiet():  # a poll is not worth a trace
                await report_once(repository, publications, older_than)
        except Exception:
            log.exception("reporting unreported posts failed")
        await asyncio.sleep(every)
