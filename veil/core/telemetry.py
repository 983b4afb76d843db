"""OpenTelemetry for every Veil process: one place that sets up tracing.

:func:`init_process` is the first thing each process's ``main`` calls. With
``VEIL_OTLP_ENDPOINT`` (or ``VEIL_TRACE_FILE``) set it builds the tracer provider
(resource: service name and version, environment, k8s pod and namespace from the
downward API; parent-based ratio sampling; a batch span processor per exporter)
and turns on the maintained instrumentations: aiohttp server (the webhook) and
client (Bot API calls), grpc.aio client and server, asyncpg, redis. Without
either setting nothing is instrumented, so tracing costs nothing.

Anonymity: no instrumentation here records request bodies, SQL parameters or
Redis arguments. The one secret that would otherwise reach a span is the bot
token in Bot API URLs (``/bot<token>/<method>``): URLs are scrubbed before they
become attributes, and every finished span is scrubbed again before export.
Exceptions recorded on spans (a failed statement's, say) may quote member text:
their messages, stack traces and the span status are redacted before export
(veil.core.redact).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Link, SpanKind, Status

from veil.core.logging import configure_logging
from veil.core.redact import redact_message, redact_stacktrace
from veil.core.settings import CommonSettings, TelemetrySettings

log = logging.getLogger(__name__)

TRACER_NAME = "veil"
# A Bot API token in a URL or message: "bot123456:AAE…" (the emulator's are alike).
_TOKEN = re.compile(r"bot\d+:[A-Za-z0-9_-]+")
_TOKEN_REPLACEMENT = "bot<token>"
# Probes and scrapes are not worth a trace each.
_UNTRACED_PATHS = "/healthz,/readyz,/metrics"
_UNTRACED_GRPC = ("grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection")


def scrub(text: str) -> str:
    """``text`` with every bot token replaced."""
    return _TOKEN.sub(_TOKEN_REPLACEMENT, text) if "bot" in text else text


def telegram_method(url: str) -> str | None:
    """The Bot API method of ``…/bot<token>/<method>``, else None."""
    head, _, method = url.rpartition("/")
    return method if _TOKEN.search(head) and method.isalnum() else None


@dataclass(frozen=True)
class Telemetry:
    """What :func:`setup_tracing` set up; ``shutdown`` flushes spans still queued."""

    provider: TracerProvider | None

    @property
    def tracing(self) -> bool:
        """True when spans are recorded and exported."""
        return self.provider is not None

    def shutdown(self) -> None:
        """Export what is buffered and stop the exporters."""
        if self.provider is not None:
            self.provider.shutdown()


def init_process(service: str, settings: CommonSettings) -> Telemetry:
    """JSON logging and tracing of one process (``service``: gateway, confessions, …)."""
    configure_logging(service, settings.log_level)
    return setup_tracing(service, settings, environment=settings.environment)


def setup_tracing(
    service: str, settings: TelemetrySettings, *, environment: str = "local"
) -> Telemetry:
    """Tracer provider, exporters and instrumentations; nothing when no exporter is set."""
    if not settings.otlp_endpoint and not settings.trace_file:
        return Telemetry(None)
    attributes: dict[str, str] = {
        "service.name": f"veil-{service}",
        "service.namespace": "veil",
        "service.version": _version(),
        "deployment.environment.name": environment,
    }
    if settings.pod_name:
        attributes["k8s.pod.name"] = settings.pod_name
        attributes["service.instance.id"] = settings.pod_name
    if settings.pod_namespace:
        attributes["k8s.namespace.name"] = settings.pod_namespace
    provider = TracerProvider(
        resource=Resource.create(attributes),
        sampler=ParentBased(TraceIdRatioBased(settings.trace_sample_ratio)),
    )
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        endpoint = settings.otlp_endpoint
        exporter = OTLPSpanExporter(endpoint=endpoint, insecure=endpoint.startswith("http://"))
        provider.add_span_processor(ScrubbingProcessor(BatchSpanProcessor(exporter)))
    if settings.trace_file:
        provider.add_span_processor(
            ScrubbingProcessor(BatchSpanProcessor(JsonLinesExporter(Path(settings.trace_file))))
        )
    trace.set_tracer_provider(provider)
    _instrument(provider)
    log.info(
        "tracing on",
        extra={
            "otlp": bool(settings.otlp_endpoint),
            "trace_file": settings.trace_file,
            "sample_ratio": settings.trace_sample_ratio,
        },
    )
    return Telemetry(provider)


def _version() -> str:
    try:
        return metadata.version("veil")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def _instrument(provider: TracerProvider) -> None:
    import os

    from opentelemetry.instrumentation.aiohttp_client import AioHttpClientInstrumentor
    from opentelemetry.instrumentation.aiohttp_server import AioHttpServerInstrumentor
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.grpc import (
        GrpcAioInstrumentorClient,
        GrpcAioInstrumentorServer,
        filters,
    )
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    # The aiohttp server instrumentation reads its exclusions from the environment only.
    os.environ.setdefault("OTEL_PYTHON_AIOHTTP_SERVER_EXCLUDED_URLS", _UNTRACED_PATHS)
    AioHttpServerInstrumentor().instrument(tracer_provider=provider)
    AioHttpClientInstrumentor().instrument(
        tracer_provider=provider,
        url_filter=lambda url: scrub(str(url)),
        request_hook=_name_bot_api_span,
    )
    untraced = filters.negate(filters.any_of(*map(filters.service_name, _UNTRACED_GRPC)))
    GrpcAioInstrumentorServer(filter_=untraced).instrument(  # type: ignore[no-untyped-call]
        tracer_provider=provider
    )
    GrpcAioInstrumentorClient(filter_=untraced).instrument(  # type: ignore[no-untyped-call]
        tracer_provider=provider
    )
    AsyncPGInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
    RedisInstrumentor().instrument(tracer_provider=provider, request_hook=_mark_redis_span)


def _name_bot_api_span(span: trace.Span, params: Any) -> None:
    """``POST sendMessage`` instead of ``POST``, and the method as an attribute."""
    if span.is_recording():
        method = telegram_method(str(params.url))
        if method is not None:
            span.update_name(f"{params.method} {method}")
            span.set_attribute("telegram.method", method)


def _mark_redis_span(span: trace.Span, instance: Any, args: Any, kwargs: Any) -> None:
    """The cluster client's spans lack ``db.system`` (set from a single-node pool only)."""
    if span.is_recording():
        span.set_attribute("db.system", "redis")


# -- spans of our own ----------------------------------------------------------


def tracer() -> trace.Tracer:
    """Veil's tracer (a no-op one when tracing is off)."""
    return trace.get_tracer(TRACER_NAME)


def annotate(attributes: Mapping[str, str | int | bool | float]) -> None:
    """Set attributes on the current span, when it is being recorded."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes(attributes)


def inject_context() -> dict[str, str]:
    """The current span's W3C trace context (``traceparent``…), to store with queued work."""
    carrier: dict[str, str] = {}
    if trace.get_current_span().get_span_context().is_valid:
        propagate.inject(carrier)
    return carrier


@contextmanager
def linked_span(
    name: str, carrier: Mapping[str, str], attributes: Mapping[str, str | int] | None = None
) -> Iterator[trace.Span]:
    """A new root span (work taken from a queue) that links to the trace that queued it.

    Started from an empty context, so it is traced even inside a block where
    instrumentation is suppressed (the claim loop that found the work).
    """
    links: Sequence[Link] = ()
    if carrier:
        queued_by = trace.get_current_span(propagate.extract(dict(carrier))).get_span_context()
        if queued_by.is_valid:
            links = (Link(queued_by),)
    with tracer().start_as_current_span(
        name,
        context=otel_context.Context(),
        kind=SpanKind.CONSUMER,
        links=links,
        attributes=attributes,
    ) as span:
        yield span


@contextmanager
def quiet() -> Iterator[None]:
    """No spans inside: for polling loops (a trace every 200 ms would bury real ones)."""
    with suppress_instrumentation():
        yield


# -- export --------------------------------------------------------------------


class ScrubbingProcessor(SpanProcessor):
    """Passes finished spans on with every bot token scrubbed from names and attributes,
    and every recorded exception's message and stack trace redacted.

    URLs are scrubbed where they are recorded already; this catches the rest (an
    exception message quoting a URL, say). Spans without a token, an exception
    or a status description pass as they are.
    """

    def __init__(self, delegate: SpanProcessor) -> None:
        self._delegate = delegate

    def on_start(self, span: Any, parent_context: otel_context.Context | None = None) -> None:
        """Forwarded."""
        self._delegate.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        """Forward ``span``, scrubbed when it carries a token."""
        dirty = (
            _has_token(span)
            or span.status.description
            or any(e.name == "exception" for e in span.events)
        )
        self._delegate.on_end(_scrubbed(span) if dirty else span)

    def shutdown(self) -> None:
        """Forwarded."""
        self._delegate.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Forwarded."""
        return self._delegate.force_flush(timeout_millis)


def _has_token(span: ReadableSpan) -> bool:
    def any_token(attributes: Mapping[str, Any] | None) -> bool:
        return any(isinstance(v, str) and _TOKEN.search(v) for v in (attributes or {}).values())

    return bool(
        _TOKEN.search(span.name)
        or any_token(span.attributes)
        or any(any_token(e.attributes) for e in span.events)
    )


def _scrub_attributes(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    return {k: scrub(v) if isinstance(v, str) else v for k, v in (attributes or {}).items()}


# Exception event attributes whose text may quote member data, and how to cut it.
_EXCEPTION_TEXT = {
    "exception.message": redact_message,
    "exception.stacktrace": redact_stacktrace,
}


def _scrub_event(event: Event) -> Event:
    attributes = _scrub_attributes(event.attributes)
    for key, redact in _EXCEPTION_TEXT.items():
        if isinstance(attributes.get(key), str):
            attributes[key] = redact(attributes[key])
    return Event(event.name, attributes, event.timestamp)


def _scrub_status(status: Status) -> Status:
    if not status.description:
        return status
    return Status(status.status_code, scrub(redact_message(status.description)))


def _scrubbed(span: ReadableSpan) -> ReadableSpan:
    return ReadableSpan(
        name=scrub(span.name),
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=_scrub_attributes(span.attributes),
        events=[_scrub_event(e) for e in span.events],
        links=span.links,
        kind=span.kind,
        status=_scrub_status(span.status),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class JsonLinesExporter(SpanExporter):
    """Finished spans appended to a file, one JSON object per line (``make up``)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Write ``spans``."""
        lines = "".join(span.to_json(indent=None) + "\n" for span in spans)
        with self._lock:
            self._file.write(lines)
            self._file.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Close the file."""
        with self._lock:
            self._file.close()
