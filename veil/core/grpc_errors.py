"""Map domain errors to gRPC status codes, once for every servicer."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc

from veil.core.errors import (
    CommunityNotFoundError,
    InvalidInputError,
    NotFoundError,
    RefusedError,
    VeilError,
)

Servicer = TypeVar("Servicer")
Request = TypeVar("Request")
Response = TypeVar("Response")

_STATUS: dict[type[VeilError], grpc.StatusCode] = {
    InvalidInputError: grpc.StatusCode.INVALID_ARGUMENT,
    CommunityNotFoundError: grpc.StatusCode.NOT_FOUND,
    NotFoundError: grpc.StatusCode.NOT_FOUND,
    RefusedError: grpc.StatusCode.FAILED_PRECONDITION,
}

Handler = Callable[[Servicer, Request, grpc.aio.ServicerContext], Awaitable[Response]]


def domain_errors(
    method: Handler[Servicer, Request, Response],
) -> Handler[Servicer, Request, Response]:
    """Decorate a servicer method: a domain error aborts the call with its status."""

    @functools.wraps(method)
    async def wrapper(
        self: Servicer, request: Request, context: grpc.aio.ServicerContext
    ) -> Response:
        try:
            return await method(self, request, context)
        except VeilError as error:
            status = _STATUS.get(type(error), grpc.StatusCode.FAILED_PRECONDITION)
            await context.abort(status, str(error))
            raise  # abort() raises; this keeps the type checker honest

    return wrapper
