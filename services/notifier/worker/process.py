"""A notifier worker process: ``python -m services.notifier.worker`` (its entry point).

Claims queued Bot API calls from the notifier schema and sends them within
Telegram's limits (shared with every other worker through Redis Cluster).
Serves ``/healthz`` and ``/metrics`` (Prometheus) on VEIL_METRICS_HOST:PORT.
SIGTERM: stop claiming, finish calls in flight, give back the rest, exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket

from services.notifier.config import WorkerSettings
from services.notifier.erasure import QueueErasure
from services.notifier.models import SCHEMA
from services.notifier.repository import NotifierRepository
from services.notifier.worker.directory import BotTokens, MemberDirectory, Publications
from services.notifier.worker.flood_limiter import FloodLimiter, Limits
from services.notifier.worker.metrics import WorkerMetrics
from services.notifier.worker.reports import report_forever
from services.notifier.worker.sender import OutboxSender
from services.notifier.worker.telegram import BotApi
from services.notifier.worker.tuning import SenderConfig
from veil.core import confessions_stubs
from veil.core.db import Database
from veil.core.metrics import ReplicaLag, start_metrics_server
from veil.core.redis import connect_redis_cluster
from veil.core.runtime import freeze_after_startup, use_uvloop
from veil.core.sealing import Keyring, keyring_or_exit, open_keyring, refusing_to_start
from veil.core.telemetry import init_process, quiet

log = logging.getLogger(__name__)


async def _refresh_queue_gauges(
    repository: NotifierRepository, metrics: WorkerMetrics, every: float
) -> None:
    while True:
        try:
            with quiet():
                metrics.set_queue(await repository.queue_stats())
        except Exception:
            log.exception("queue stats failed")
        await asyncio.sleep(every)


async def _open_database(settings: WorkerSettings, keys: Keyring) -> Database:
    """The notifier schema's database, once ``keys`` are verified against it."""
    db = Database.from_settings(settings, SCHEMA)
    try:
        await open_keyring(db, SCHEMA, keys)
    except BaseException:
        await db.dispose()
        raise
    return db


def _sender_config(settings: WorkerSettings, worker_id: str) -> SenderConfig:
    """The sender's tuning, from the worker's settings."""
    return SenderConfig(
        worker_id=worker_id,
        lease_seconds=settings.notifier_lease_seconds,
        batch_size=settings.notifier_batch_size,
        max_in_flight=settings.notifier_max_in_flight,
        poll_seconds=settings.notifier_poll_seconds,
        max_attempts=settings.notifier_max_attempts,
        backoff_base_seconds=settings.notifier_backoff_base_seconds,
        backoff_cap_seconds=settings.notifier_backoff_cap_seconds,
        refresh_seconds=settings.notifier_refresh_seconds,
        defaults=Limits(
            settings.notifier_per_second,
            settings.notifier_per_private_chat_per_second,
            settings.notifier_per_group_per_minute,
        ),
    )


def _start_background(
    settings: WorkerSettings,
    db: Database,
    repository: NotifierRepository,
    metrics: WorkerMetrics,
    publications: Publications,
) -> list[asyncio.Task[None]]:
    """Start the queue gauges, the replica lag probe (if any) and the report refresher."""
    tasks = [
        asyncio.create_task(
            _refresh_queue_gauges(repository, metrics, settings.notifier_stats_seconds)
        )
    ]
    if db.replica:
        tasks.append(asyncio.create_task(ReplicaLag(metrics.registry, db).run()))
    tasks.append(
        asyncio.create_task(
            report_forever(
                repository,
                publications,
                every=settings.notifier_refresh_seconds,
                older_than=settings.notifier_lease_seconds,
            )
        )
    )
    return tasks


async def run(settings: WorkerSettings, keys: Keyring) -> None:
    """Run one worker until SIGTERM/SIGINT."""
    worker_id = f"{socket.gethostname()}:{os.getpid()}"
    db = await _open_database(settings, keys)
    repository = NotifierRepository(db, keys)
    redis = await connect_redis_cluster(settings.redis_nodes)
    upstream, channel = confessions_stubs.connect(settings.confessions_addr)
    api = BotApi(settings.telegram_api_url, settings.notifier_request_timeout_seconds)
    await api.start()
    metrics = WorkerMetrics()
    publications = Publications(upstream.confessions)
    sender = OutboxSender(
        _sender_config(settings, worker_id),
        repository,
        FloodLimiter(
            redis,
            id_key=settings.id_hash_key.get_secret_value().encode(),
            safety_margin=settings.notifier_safety_margin,
            horizon_seconds=settings.notifier_slot_horizon_seconds,
        ),
        api,
        BotTokens(upstream.communities, refresh_seconds=settings.notifier_refresh_seconds),
        MemberDirectory(upstream.members),
        metrics,
        publications,
        QueueErasure(db, keys),
    )
    runner = await start_metrics_server(
        metrics.registry,
        settings.metrics_host,
        settings.metrics_port,
        health=lambda: {"in_flight": sender.in_flight},
        before_scrape=metrics.refresh_quantiles,
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, sender.stop)
    tasks = _start_background(settings, db, repository, metrics, publications)
    freeze_after_startup()
    log.info(
        "notifier worker started",
        extra={"worker": worker_id, "metrics": f"{settings.metrics_host}:{settings.metrics_port}"},
    )
    try:
        await sender.run()
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await runner.cleanup()
        await api.close()
        await channel.close()
        await redis.aclose()
        await db.dispose()
        log.info("notifier worker stopped", extra={"worker": worker_id})


def main() -> None:
    """Console entry point."""
    settings = WorkerSettings()
    keys = keyring_or_exit(settings)
    telemetry = init_process("notifier-worker", settings)
    use_uvloop()
    try:
        with refusing_to_start():
            asyncio.run(run(settings, keys))
    finally:
        telemetry.shutdown()


if __name__ == "__main__":
    main()
