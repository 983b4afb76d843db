"""Wiring of the gateway: settings → Redis, gRPC, Bot API session → aiohttp app.

Prometheus metrics are served apart, on VEIL_METRICS_HOST:VEIL_METRICS_PORT.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from aiogram import Dispatcher
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web
from redis.asyncio.cluster import RedisCluster

from services.gateway.admins import AdminCheck
from services.gateway.cards import Cards
from services.gateway.clients import ServiceClients
from services.gateway.commands import publish_commands
from services.gateway.config import GatewaySettings
from services.gateway.dispatcher import build_dispatcher
from services.gateway.fsm import create_storage
from services.gateway.guard import UpdateGuard
from services.gateway.member import CARDS_KEY
from services.gateway.metrics import GatewayMetrics, install_handler_probe
from services.gateway.miniapp.api import APP_KEY as MINIAPP
from services.gateway.miniapp.api import MiniApp
from services.gateway.miniapp.api import routes as miniapp_routes
from services.gateway.registry import CommunityEntry, CommunityRegistry, Refreshed
from services.gateway.slots import UpdateSlots
from services.gateway.telegram_session import BotApiSession
from services.gateway.webhook import WebhookHandler
from veil.core.metrics import start_metrics_server
from veil.core.redis import connect_redis_cluster
from veil.core.runtime import freeze_after_startup, use_uvloop
from veil.core.telemetry import init_process, quiet

log = logging.getLogger(__name__)


async def _set_webhooks(
    entries: list[CommunityEntry], settings: GatewaySettings, allowed: list[str]
) -> None:
    for entry in entries:
        try:
            await entry.bot.set_webhook(
                url=f"{settings.public_url.rstrip('/')}/webhook/{entry.id}",
                secret_token=entry.secret_token,
                max_connections=settings.webhook_max_connections,
                allowed_updates=allowed,
            )
            log.info("webhook set", extra={"community": entry.id})
        except Exception as error:
            log.error(
                "setWebhook failed",
                extra={
                    "community": entry.id,
                    "error_type": type(error).__name__,
                    "error": str(error),
                },
            )


async def _publish_commands(changes: list[Refreshed]) -> None:
    """Command menus of communities that are new here or moderated in another chat now."""
    for change in changes:
        if not change.new_admin_chat:
            continue
        # Another bot's menus are not this bot's to remove.
        previous = (
            change.previous.admin_chat_id
            if change.previous is not None and not change.new_bot
            else None
        )
        try:
            await publish_commands(change.entry.bot, change.entry.admin_chat_id, previous)
        except Exception as error:
            # The menus are a convenience; every command works without them.
            log.error(
                "setMyCommands failed",
                extra={"community": change.entry.id, "error_type": type(error).__name__},
            )


def build_app(settings: GatewaySettings) -> web.Application:
    """The aiohttp application, with start-up and clean-up of every client."""
    app = web.Application(client_max_size=settings.max_update_bytes * 4)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        metrics = GatewayMetrics()
        metrics_runner = await start_metrics_server(
            metrics.registry, settings.metrics_host, settings.metrics_port
        )
        redis = await connect_redis_cluster(
            settings.redis_nodes, max_connections=settings.redis_connections_per_node
        )
        services = ServiceClients.connect(settings.confessions_addr, settings.social_addr)
        session = BotApiSession(metrics, api=TelegramAPIServer.from_base(settings.telegram_api_url))
        registry = CommunityRegistry(
            services.communities, session, settings.webhook_secret_key.get_secret_value().encode()
        )
        dispatcher = _install_handlers(app, settings, metrics, redis, services, registry)
        allowed = dispatcher.resolve_used_update_types()
        refresher = asyncio.create_task(_refresh_forever(registry, settings, allowed))
        freeze_after_startup()
        app["ready"] = True
        yield
        app["ready"] = False
        refresher.cancel()
        await session.close()
        await services.close()
        await redis.aclose()
        await metrics_runner.cleanup()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_post("/webhook/{community_id}", _webhook)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.add_routes(miniapp_routes())
    return app


def _install_handlers(
    app: web.Application,
    settings: GatewaySettings,
    metrics: GatewayMetrics,
    redis: RedisCluster,
    services: ServiceClients,
    registry: CommunityRegistry,
) -> Dispatcher:
    """Put the webhook handler and the Mini App on ``app``; returns their dispatcher."""
    id_key = settings.id_hash_key.get_secret_value().encode()
    dispatcher = build_dispatcher(create_storage(redis, id_key, settings.fsm_ttl_seconds))
    install_handler_probe(dispatcher)
    guard = UpdateGuard(
        redis,
        id_key=id_key,
        burst=settings.rate_limit_burst,
        per_minute=settings.rate_limit_per_minute,
        done_ttl_seconds=settings.dedupe_ttl_seconds,
    )
    slots = UpdateSlots(settings.max_updates_in_flight)
    metrics.watch(slots)
    app["webhook"] = WebhookHandler(
        registry,
        dispatcher,
        guard,
        max_bytes=settings.max_update_bytes,
        deadline_seconds=settings.update_deadline_seconds,
        slots=slots,
        context={
            "services": services,
            "settings": settings,
            "admins": AdminCheck(redis, id_key, settings.admin_cache_seconds),
            CARDS_KEY: Cards(redis),
        },
        metrics=metrics,
    )
    app[MINIAPP] = MiniApp(
        registry,
        services,
        AdminCheck(redis, id_key, settings.admin_cache_seconds),
        settings.miniapp_init_data_max_age_seconds,
    )
    return dispatcher


async def _refresh_forever(
    registry: CommunityRegistry, settings: GatewaySettings, allowed: list[str]
) -> None:
    """Reload the communities every few seconds; set up the bots that are new or moved."""
    while True:
        try:
            with quiet():  # polled every few seconds: not worth a trace each
                await registry.refresh()
            changes = registry.take_changes()
            if settings.set_webhooks:
                await _set_webhooks(
                    [change.entry for change in changes if change.new_bot],
                    settings,
                    allowed,
                )
                await _publish_commands(changes)
        except Exception as error:
            log.error("community refresh failed", extra={"error_type": type(error).__name__})
        await asyncio.sleep(settings.community_refresh_seconds)


async def _webhook(request: web.Request) -> web.Response:
    handler: WebhookHandler = request.app["webhook"]
    return await handler(request)


async def _healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def _readyz(request: web.Request) -> web.Response:
    ready = request.app.get("ready", False)
    return web.Response(status=200 if ready else 503, text="ready" if ready else "starting")


def main() -> None:
    """Console entry point: ``python -m services.gateway``."""
    settings = GatewaySettings()  # type: ignore[call-arg]
    telemetry = init_process("gateway", settings)
    use_uvloop()
    # aiohttp drains in-flight requests for shutdown_timeout on SIGTERM/SIGINT.
    try:
        web.run_app(
            build_app(settings),
            host=settings.http_host,
            port=settings.http_port,
            access_log=None,
            print=None,
            shutdown_timeout=settings.update_deadline_seconds,
            handle_signals=True,
        )
    finally:
        telemetry.shutdown()
