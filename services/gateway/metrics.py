"""What the gateway tells Prometheus and the trace about each update.

RED per webhook handler (``update_type``, ``handler``, ``outcome``), update_id
claims that were duplicates, rate-limit rejections, dropped bodies, the
Bot API calls the gateway made itself, and the updates in flight and waiting
for a slot (services/gateway/slots.py). Labels are update types, handler names,
Bot API method names and codes: never an id, a name or a text of a member.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware, Dispatcher
from aiogram.dispatcher.event.handler import HandlerObject
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from services.gateway.slots import UpdateSlots
from veil.core.metrics import LATENCY_BUCKETS
from veil.core.telemetry import annotate

NO_HANDLER = "-"
PROBE_KEY = "veil_probe"


class GatewayMetrics:
    """The gateway's registry and its series."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter(
            "veil_gateway_updates",
            "Webhook updates by type, the handler that took them and the outcome",
            ["update_type", "handler", "outcome"],
            registry=r,
        )
        self.update_seconds = Histogram(
            "veil_gateway_update_duration_seconds",
            "From the claim to the answer of a handled update",
            ["update_type", "handler"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.dedupe_hits = Counter(
            "veil_gateway_dedupe_hits",
            "Updates whose update_id was claimed already (done, or in flight elsewhere)",
            ["state"],
            registry=r,
        )
        self.rate_limited = Counter(
            "veil_gateway_rate_limited",
            "Updates refused by the per-member token bucket",
            ["answered"],
            registry=r,
        )
        self.dropped = Counter(
            "veil_gateway_dropped_updates",
            "Bodies answered 200 and dropped (oversized, malformed, unknown type)",
            ["reason"],
            registry=r,
        )
        self.rejected = Counter(
            "veil_gateway_rejected_requests",
            "Webhook requests refused (unknown community, wrong secret token)",
            ["reason"],
            registry=r,
        )
        self.bot_api_calls = Counter(
            "veil_gateway_bot_api_calls",
            "Bot API calls made by the gateway, by method and Telegram's code",
            ["method", "code"],
            registry=r,
        )
        self.bot_api_seconds = Histogram(
            "veil_gateway_bot_api_duration_seconds",
            "Bot API call duration",
            ["method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge(
            "veil_gateway_updates_in_flight",
            "Updates between their claim and done (at most VEIL_MAX_UPDATES_IN_FLIGHT)",
            registry=r,
        )
        self.waiting = Gauge(
            "veil_gateway_updates_waiting",
            "Updates waiting for a slot: the gateway is at its bound of updates in flight",
            registry=r,
        )

    def watch(self, slots: UpdateSlots) -> None:
        """Read ``slots``' counters at every scrape (nothing is written per update)."""
        self.in_flight.set_function(lambda: slots.busy)
        self.waiting.set_function(lambda: slots.waiting)


@dataclass
class UpdateProbe:
    """Filled in while one update is handled: which handler took it."""

    handler: str = NO_HANDLER


class HandlerProbe(BaseMiddleware):
    """Inner middleware: records the handler an update reached (for RED and the span)."""

    def __init__(self) -> None:
        self._names: dict[Any, str] = {}

    async def __call__(
        self,
        handler: Callable[[Any, dict[str, Any]], Awaitable[Any]],
        event: Any,
        data: dict[str, Any],
    ) -> Any:
        """Note the handler's name, then run it."""
        target: HandlerObject | None = data.get("handler")
        probe: UpdateProbe | None = data.get(PROBE_KEY)
        if target is not None and probe is not None:
            probe.handler = self._name(target.callback)
            annotate({"veil.handler": probe.handler})
        return await handler(event, data)

    def _name(self, callback: Any) -> str:
        name = self._names.get(callback)
        if name is None:
            module = str(getattr(callback, "__module__", "")).rpartition(".")[2]
            name = f"{module}.{getattr(callback, '__name__', type(callback).__name__)}"
            self._names[callback] = name
        return name


def install_handler_probe(dispatcher: Dispatcher) -> None:
    """Put one :class:`HandlerProbe` on every event observer of ``dispatcher``.

    Inner middlewares of the root router apply to the handlers of every router
    included in it.
    """
    probe = HandlerProbe()
    for name, observer in dispatcher.observers.items():
        if name not in ("update", "error"):
            observer.middleware(probe)
