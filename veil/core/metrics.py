"""Prometheus metrics every Veil process shares: /metrics, RPC RED, replica lag.

Each process owns one :class:`prometheus_client.CollectorRegistry` (no global
default registry) and serves it with :func:`start_metrics_server` on
``VEIL_METRICS_HOST:VEIL_METRICS_PORT``, apart from the port it serves traffic on.
Labels never carry a Telegram id, a name or text: method names, status codes,
update types, handler names and community ids only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import grpc
from aiohttp import web
from opentelemetry import trace
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from veil.core import telemetry
from veil.core.db import Database
from veil.core.grpc_interceptors import Behaviour, UnaryServerInterceptor

log = logging.getLogger(__name__)

# Seconds; RPCs and webhook updates are milliseconds when healthy, the tail matters.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# Request fields worth a span attribute (ids of things, never of people).
_SPAN_FIELDS = {
    "community_id": "veil.community_id",
    "confession_id": "veil.confession_id",
    "confession_number": "veil.confession_number",
    "comment_id": "veil.comment_id",
}


async def start_metrics_server(
    registry: CollectorRegistry,
    host: str,
    port: int,
    *,
    health: Callable[[], Mapping[str, Any]] | None = None,
    before_scrape: Callable[[], None] | None = None,
) -> web.AppRunner:
    """Serve ``/metrics`` (and ``/healthz``) on ``host:port``; clean the runner up to stop."""

    async def metrics_page(request: web.Request) -> web.Response:
        if before_scrape is not None:
            before_scrape()
        return web.Response(
            body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, **(health() if health is not None else {})})

    app = web.Application()
    app.router.add_get("/metrics", metrics_page)
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("metrics listening", extra={"address": f"{host}:{port}"})
    return runner


class RpcMetrics:
    """RED of the RPCs a gRPC server handles."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.handled = Counter(
            "veil_rpc_server_handled",
            "RPCs handled, by method and status code",
            ["service", "method", "code"],
            registry=registry,
        )
        self.seconds = Histogram(
            "veil_rpc_server_duration_seconds",
            "RPC handling time",
            ["service", "method"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )


class RpcMetricsInterceptor(UnaryServerInterceptor):
    """Counts and times every unary RPC; tags the RPC's span with the ids in its request."""

    def __init__(self, metrics: RpcMetrics) -> None:
        super().__init__()
        self._metrics = metrics

    def wrap(self, behaviour: Behaviour, method_path: str) -> Behaviour:
        """``behaviour`` counted and timed under its service and method."""
        service, _, method = method_path.lstrip("/").partition("/")
        handled = self._metrics.handled
        seconds = self._metrics.seconds.labels(service, method)
        # The method's counter per status code, looked up once (labels() locks
        # and hashes on every call).
        counted: dict[str, Any] = {}

        async def observed(request: Any, context: grpc.aio.ServicerContext) -> Any:
            _tag_span(request)
            started = time.perf_counter()
            code = "UNKNOWN"
            try:
                response = await behaviour(request, context)
                code = _code_name(context.code(), "OK")
                return response
            except BaseException:
                code = _code_name(context.code(), "UNKNOWN")
                raise
            finally:
                seconds.observe(time.perf_counter() - started)
                counter = counted.get(code)
                if counter is None:
                    counter = counted[code] = handled.labels(service, method, code)
                counter.inc()

        return observed


def _code_name(code: Any, default: str) -> str:
    return code.name if isinstance(code, grpc.StatusCode) else default


def _tag_span(request: Any) -> None:
    descriptor = getattr(request, "DESCRIPTOR", None)
    if descriptor is None or not trace.get_current_span().is_recording():
        return
    fields = descriptor.fields_by_name
    attributes = {
        attribute: value
        for field, attribute in _SPAN_FIELDS.items()
        if field in fields and (value := getattr(request, field))
    }
    # Requests made for a member carry the community in their Actor (whose
    # Telegram id is never copied anywhere).
    if "actor" in fields and request.HasField("actor") and request.actor.community_id:
        attributes["veil.community_id"] = request.actor.community_id
    if attributes:
        telemetry.annotate(attributes)


class ReplicaLag:
    """The replica's replay lag as this process sees it, refreshed in the background."""

    def __init__(self, registry: CollectorRegistry, db: Database, every_seconds: float = 5.0):
        self._db = db
        self._every = every_seconds
        self.lag = Gauge(
            "veil_db_replica_lag_seconds",
            "How far the read replica's replay is behind (0 when it has replayed all it got)",
            registry=registry,
        )
        self.up = Gauge(
            "veil_db_replica_up",
            "1 when the read replica answered the last probe",
            registry=registry,
        )

    async def run(self) -> None:
        """Probe until cancelled."""
        while True:
            with telemetry.quiet():
                try:
                    lag = await self._db.replica_lag_seconds()
                    self.up.set(0 if lag is None else 1)
                    if lag is not None:
                        self.lag.set(lag)
                except Exception as error:
                    self.up.set(0)
                    log.warning(
                        "replica lag probe failed", extra={"error_type": type(error).__name__}
                    )
            await asyncio.sleep(self._every)
