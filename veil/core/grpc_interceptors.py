"""One way to wrap every unary RPC of a server (metrics, error mapping)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc

Behaviour = Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]


class UnaryServerInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Wraps unary-unary handlers with :meth:`wrap`; streams (health watch,
    reflection) pass untouched."""

    def wrap(self, behaviour: Behaviour, method: str) -> Behaviour:
        """The handler to serve ``method`` (``/package.Service/Method``) with."""
        raise NotImplementedError

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        """Wrap unary-unary handlers; leave the others as they are."""
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        return grpc.unary_unary_rpc_method_handler(
            self.wrap(handler.unary_unary, str(handler_call_details.method)),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
