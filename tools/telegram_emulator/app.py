"""The emulator's web application: the Bot API, the control API and health."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from tools.telegram_emulator.control import Control, control_errors
from tools.telegram_emulator.control_groups import GroupControl
from tools.telegram_emulator.delivery import Deliverer
from tools.telegram_emulator.errors import BotApiError
from tools.telegram_emulator.faults import Disconnect
from tools.telegram_emulator.flood import FloodControl, FloodLimits
from tools.telegram_emulator.methods import call
from tools.telegram_emulator.params import Params
from tools.telegram_emulator.retry import RetrySchedule
from tools.telegram_emulator.sandbox import Sandbox
from tools.telegram_emulator.state import Emulator
from tools.telegram_emulator.webapp import routes as webapp_routes

EMULATOR_KEY = web.AppKey("emulator", Emulator)
# Uploads (photos, documents) may be large; Telegram accepts up to 50 MB.
MAX_REQUEST_BYTES = 50 * 1024 * 1024


def create_app(
    *,
    flood_limits: bool = False,
    webhook_retries: int = 8,
    retry_delay: float = 0.05,
    webhook_timeout: float = 60.0,
    retry_schedule: RetrySchedule | None = None,
) -> web.Application:
    """An emulator; ``flood_limits`` switches Telegram's 429s on from the start.

    Failed deliveries are retried ``webhook_retries`` times, the pause doubling
    from ``retry_delay`` up to 2 s (about 6 s in all by default). Telegram keeps
    trying for much longer; this is long enough to ride out a Redis failover
    and short enough for tests of updates that never succeed. ``retry_schedule``
    replaces both (``RetrySchedule.telegram()``: about an hour, as Telegram).
    """
    emulator = Emulator(flood=FloodControl(FloodLimits(enabled=flood_limits)))
    deliverer = Deliverer(
        emulator,
        schedule=retry_schedule or RetrySchedule.short(webhook_retries, retry_delay),
        timeout=webhook_timeout,
    )

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await deliverer.start()
        yield
        await deliverer.close()

    sandbox = Sandbox(emulator)
    app = web.Application(
        client_max_size=MAX_REQUEST_BYTES, middlewares=[sandbox.track_changes, control_errors]
    )
    app[EMULATOR_KEY] = emulator
    app.cleanup_ctx.append(lifecycle)
    app.on_shutdown.append(sandbox.close)
    app.add_routes(
        [
            web.route("*", "/bot{token}/{method}", _bot_api),
            web.get("/healthz", _healthz),
            *Control(emulator, deliverer).routes(),
            *sandbox.routes(),
            *GroupControl(emulator).routes(),
            *webapp_routes(emulator),
        ]
    )
    return app


async def _bot_api(request: web.Request) -> web.Response:
    """One Bot API call, answered as Telegram would."""
    emulator = request.app[EMULATOR_KEY]
    try:
        bot = emulator.world.bot_for_token(request.match_info["token"])
        params = await Params.read(request)
        result = await call(emulator, bot, request.match_info["method"], params)
    except BotApiError as error:
        return web.json_response(error.payload(), status=error.error_code)
    except Disconnect:
        # No answer at all: the client sees a dropped connection.
        if request.transport is not None:
            request.transport.abort()
        raise web.HTTPServiceUnavailable() from None
    return web.json_response({"ok": True, "result": result})


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})
