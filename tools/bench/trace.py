"""An OTLP/gRPC trace sink for ``make bench TRACE=1``: counts spans, keeps none."""

from __future__ import annotations

from concurrent import futures
from typing import Any

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc


class OtlpSink(trace_service_pb2_grpc.TraceServiceServicer):  # type: ignore[misc]
    """Accepts spans over OTLP/gRPC and only counts them."""

    def __init__(self) -> None:
        self.spans = 0
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(  # type: ignore[no-untyped-call]
            self, self._server
        )
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()

    def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: Any
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        """Count and forget."""
        self.spans += sum(
            len(scope.spans) for rs in request.resource_spans for scope in rs.scope_spans
        )
        return trace_service_pb2.ExportTraceServiceResponse()

    def stop(self) -> None:
        """Stop listening."""
        self._server.stop(grace=1)
