"""A local OTLP collector: a real gRPC server implementing the OTLP trace service.

The suite starts it before the stack and points every process at it
(``VEIL_OTLP_ENDPOINT``); tests read the spans it received.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1 import trace_pb2

KIND_NAMES = {
    trace_pb2.Span.SPAN_KIND_INTERNAL: "internal",
    trace_pb2.Span.SPAN_KIND_SERVER: "server",
    trace_pb2.Span.SPAN_KIND_CLIENT: "client",
    trace_pb2.Span.SPAN_KIND_PRODUCER: "producer",
    trace_pb2.Span.SPAN_KIND_CONSUMER: "consumer",
}


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    return getattr(value, kind) if kind else None


def _attributes(pairs: Any) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in pairs if isinstance(kv, KeyValue)}


@dataclass(frozen=True)
class Span:
    """One received span, decoded."""

    service: str
    name: str
    kind: str
    trace_id: str
    span_id: str
    parent_id: str
    attributes: dict[str, Any]
    resource: dict[str, Any]
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    links: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def text(self) -> str:
        """Everything this span says, as one string (for leak scans)."""
        return repr(
            (self.name, self.attributes, self.resource, self.events, [lk[2] for lk in self.links])
        )


class Receiver(trace_service_pb2_grpc.TraceServiceServicer):  # type: ignore[misc]
    """Keeps every span exported to it."""

    def __init__(self) -> None:
        self._spans: list[Span] = []
        self._lock = threading.Lock()
        self._server: grpc.Server | None = None
        self.port = 0

    def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: Any
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        """Decode and keep the spans."""
        received = []
        for resource_spans in request.resource_spans:
            resource = _attributes(resource_spans.resource.attributes)
            service = str(resource.get("service.name", ""))
            for scope in resource_spans.scope_spans:
                for s in scope.spans:
                    received.append(
                        Span(
                            service=service,
                            name=s.name,
                            kind=KIND_NAMES.get(s.kind, "unspecified"),
                            trace_id=s.trace_id.hex(),
                            span_id=s.span_id.hex(),
                            parent_id=s.parent_span_id.hex(),
                            attributes=_attributes(s.attributes),
                            resource=resource,
                            events=[(e.name, _attributes(e.attributes)) for e in s.events],
                            links=[
                                (lk.trace_id.hex(), lk.span_id.hex(), _attributes(lk.attributes))
                                for lk in s.links
                            ],
                        )
                    )
        with self._lock:
            self._spans.extend(received)
        return trace_service_pb2.ExportTraceServiceResponse()

    def start(self) -> str:
        """Listen on a free loopback port; returns the endpoint for VEIL_OTLP_ENDPOINT."""
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(  # type: ignore[no-untyped-call]
            self, server
        )
        self.port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        self._server = server
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.stop(grace=1)

    def spans(self) -> list[Span]:
        """Every span received so far."""
        with self._lock:
            return list(self._spans)

    def trace(self, trace_id: str) -> list[Span]:
        """The spans of one trace received so far."""
        return [s for s in self.spans() if s.trace_id == trace_id]


async def wait_for(
    what: str,
    found: Callable[[], Any],
    seconds: float = 20.0,
    every: float = 0.1,
    describe: Callable[[], Any] | None = None,
) -> Any:
    """Poll ``found`` (a function or coroutine function) until it returns something truthy."""
    deadline = time.monotonic() + seconds
    while True:
        result = found()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            seen = f": {describe()}" if describe is not None else ""
            raise AssertionError(f"timed out waiting for {what}{seen}")
        await asyncio.sleep(every)


def ancestors(span: Span, by_id: dict[str, Span]) -> Iterator[Span]:
    """The span's parent, its parent, … as far as they were received."""
    current = by_id.get(span.parent_id)
    while current is not None:
        yield current
        current = by_id.get(current.parent_id)
