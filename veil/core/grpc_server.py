"""Run a gRPC service: health, reflection, metrics, tracing, graceful shutdown.

Every service's ``server`` module builds its servicers and hands them to
:func:`serve`; the bootstrap is the same for all of them: RED metrics of every
RPC and the replica's lag on ``/metrics`` (VEIL_METRICS_PORT), and a server span
per RPC when tracing is on (see veil.core.telemetry).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.descriptor import FileDescriptor
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from prometheus_client import CollectorRegistry

from veil.core.db import Database
from veil.core.grpc_client import service_name
from veil.core.grpc_errors import ErrorsInterceptor
from veil.core.metrics import ReplicaLag, RpcMetrics, RpcMetricsInterceptor, start_metrics_server
from veil.core.runtime import freeze_after_startup, use_uvloop
from veil.core.sealing import refusing_to_start
from veil.core.settings import ServiceSettings
from veil.core.telemetry import init_process

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Registration:
    """One servicer and how to attach it to a server."""

    service_name: str
    add: Callable[[grpc.aio.Server], None]

    @classmethod
    def of(
        cls,
        file_descriptor: FileDescriptor,
        service: str,
        add_to_server: Callable[[Any, grpc.aio.Server], None],
        servicer: object,
    ) -> Registration:
        """Registration of ``servicer`` for ``service`` declared in ``file_descriptor``."""
        return cls(
            service_name(file_descriptor, service),
            lambda server: add_to_server(servicer, server),
        )


def interceptors(registry: CollectorRegistry) -> list[grpc.aio.ServerInterceptor]:
    """What wraps every unary RPC of a Veil server, outermost first (tracing is
    put before them): metrics see the status an error was turned into; every
    error is mapped in one place (a domain error to its status, so no servicer
    method needs a decorator; anything else to INTERNAL)."""
    return [
        RpcMetricsInterceptor(RpcMetrics(registry)),
        ErrorsInterceptor(),
    ]


def _new_server(registry: CollectorRegistry) -> grpc.aio.Server:
    """A gRPC server with Veil's interceptors (metrics in ``registry``) and keepalives."""
    return grpc.aio.server(
        interceptors=interceptors(registry),
        options=[
            ("grpc.so_reuseport", 0),
            ("grpc.keepalive_time_ms", 30_000),
            ("grpc.http2.max_pings_without_data", 0),
            # Close each client connection after a minute (GOAWAY, in-flight calls
            # get 30 s): clients then re-resolve the headless Service's DNS name,
            # so pods the HPA adds receive calls from already-connected clients.
            ("grpc.max_connection_age_ms", 60_000),
            ("grpc.max_connection_age_grace_ms", 30_000),
        ],
    )


async def serve(
    settings: ServiceSettings,
    registrations: Sequence[Registration],
    *,
    on_shutdown: Callable[[], Awaitable[None]] | None = None,
    db: Database | None = None,
    registry: CollectorRegistry | None = None,
) -> None:
    """Serve until SIGTERM/SIGINT, then drain in-flight calls and stop.

    On a signal the health status turns NOT_SERVING first, so load balancers
    stop sending new calls while the ones in flight get ``shutdown_grace_seconds``
    to finish. ``db``: its replica's lag is exported; ``registry``: the metrics
    page's (a new one unless given).
    """
    registry = registry if registry is not None else CollectorRegistry()
    server = _new_server(registry)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for registration in registrations:
        registration.add(server)
    names = [r.service_name for r in registrations]
    reflection.enable_server_reflection(
        [
            *names,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ],
        server,
    )
    address = f"{settings.grpc_host}:{settings.grpc_port}"
    if server.add_insecure_port(address) == 0:
        raise RuntimeError(f"cannot bind gRPC server to {address}")
    metrics = await start_metrics_server(registry, settings.metrics_host, settings.metrics_port)
    lag = (
        asyncio.create_task(ReplicaLag(registry, db).run())
        if db is not None and db.replica is not None
        else None
    )
    await server.start()
    freeze_after_startup()
    for name in ["", *names]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("gRPC server listening", extra={"address": address, "services": names})

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()

    log.info("draining", extra={"grace_seconds": settings.shutdown_grace_seconds})
    await health_servicer.enter_graceful_shutdown()
    await server.stop(settings.shutdown_grace_seconds)
    if lag is not None:
        lag.cancel()
    await metrics.cleanup()
    if on_shutdown is not None:
        await on_shutdown()
    log.info("stopped")


def run_database_service(
    name: str,
    settings: ServiceSettings,
    build: Callable[
        [Database, AsyncExitStack, CollectorRegistry], Awaitable[Sequence[Registration]]
    ],
) -> None:
    """Process entry point of a service backed by its own schema ``name``.

    Configures logging and tracing, opens the engines, serves until SIGTERM,
    disposes them and flushes the last spans. ``build`` returns the services to
    serve (one process may serve several); it gets the database and an
    exit stack for what else it opens (the channels to other services): it is
    closed on shutdown, after the drain; and the registry the metrics page shows.
    """
    telemetry = init_process(name, settings)

    async def main() -> None:
        async with AsyncExitStack() as closing:
            db = Database.from_settings(settings, name)
            closing.push_async_callback(db.dispose)
            registry = CollectorRegistry()
            await serve(
                settings,
                await build(db, closing, registry),
                on_shutdown=closing.aclose,
                db=db,
                registry=registry,
            )

    use_uvloop()
    try:
        with refusing_to_start():
            asyncio.run(main())
    finally:
        telemetry.shutdown()
