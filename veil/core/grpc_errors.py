"""Map every error of an RPC to its gRPC status, once for every server.

:class:`ErrorsInterceptor` turns a domain error (veil.core.errors) raised by
any RPC into its status: no servicer method needs to remember to. A
:class:`MemberRefusal` also carries the :data:`MEMBER_REFUSAL_KEY` trailing
metadata, by which :func:`member_refusal` tells callers its text is for the
member. Any other failure becomes INTERNAL with a fixed detail (UNAVAILABLE
with :data:`DEPENDENCY_DETAIL` when Redis, Postgres or another service was out
of reach: a failover, a restart), after logging it without its message (see
veil.core.redact): left to gRPC, the exception's text would become the status
detail the caller sees and logs, gRPC's own log line, and the server span's
exception event, and that text can quote what a member wrote (a failed
statement's values).
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import grpc
from redis.exceptions import ClusterError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError

from veil.core.errors import (
    CommunityNotFoundError,
    InvalidInputError,
    MemberRefusal,
    NotFoundError,
    RefusedError,
    VeilError,
)
from veil.core.grpc_interceptors import Behaviour, UnaryServerInterceptor
from veil.core.redact import describe

log = logging.getLogger(__name__)

INTERNAL_DETAIL = "internal error"
# A dependency of the service (Redis, Postgres, another service) was out of
# reach: the call may be repeated (every write is idempotent, and a repeat
# finishes what the first attempt left half done). Callers retry it, or have
# the update redelivered, instead of apologising.
DEPENDENCY_DETAIL = "dependency unavailable"

_TRANSIENT = (
    RedisConnectionError,
    RedisTimeoutError,
    ClusterError,
    TryAgainError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    ConnectionError,
    TimeoutError,
)


# A call to another Veil service that may be repeated once it is back: the
# service was out of reach (killed, restarting) or its own dependency was, or
# the call ran out of time. Answering INTERNAL instead makes the gateway
# apologise and finish the update, leaving what this RPC already stored
# without its next step (a confession stored, its card never queued).
_TRANSIENT_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


def is_transient(error: BaseException) -> bool:
    """True when ``error`` (or what caused it) is a dependency out of reach:
    Redis, Postgres, or another service answering UNAVAILABLE or out of time."""
    seen: BaseException | None = error
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, _TRANSIENT):
            return True
        if isinstance(seen, grpc.aio.AioRpcError) and seen.code() in _TRANSIENT_CODES:
            return True
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


_STATUS: dict[type[VeilError], grpc.StatusCode] = {
    InvalidInputError: grpc.StatusCode.INVALID_ARGUMENT,
    CommunityNotFoundError: grpc.StatusCode.NOT_FOUND,
    NotFoundError: grpc.StatusCode.NOT_FOUND,
    RefusedError: grpc.StatusCode.FAILED_PRECONDITION,
}
# Trailing metadata that marks a status's detail as a MemberRefusal's text.
MEMBER_REFUSAL_KEY = "veil-member-refusal"


def status_of(error: VeilError) -> grpc.StatusCode:
    """The status a domain error is answered with."""
    if isinstance(error, MemberRefusal):
        return (
            grpc.StatusCode.INVALID_ARGUMENT
            if error.fixable
            else grpc.StatusCode.FAILED_PRECONDITION
        )
    return _STATUS.get(type(error), grpc.StatusCode.FAILED_PRECONDITION)


def refused_as_sent(error: BaseException) -> bool:
    """Whether another service refused a request for what it holds, which no
    retry changes (a relay drops such a call rather than stop behind it)."""
    return isinstance(error, grpc.aio.AioRpcError) and error.code() in (
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
    )


def member_refusal(error: grpc.aio.AioRpcError) -> str | None:
    """The text for the member when ``error`` is a :class:`MemberRefusal`, else None
    (the caller then shows a generic text, never the detail)."""
    trailing = error.trailing_metadata() or ()
    if any(key == MEMBER_REFUSAL_KEY for key, _ in trailing):
        return error.details() or None
    return None


class ErrorsInterceptor(UnaryServerInterceptor):
    """Every error of a unary RPC answered once: a domain error with its status
    and message; anything unexpected logged safely and answered INTERNAL
    (UNAVAILABLE when a dependency was out of reach).

    Registered inside the metrics interceptor (which counts the status) and the
    tracing interceptor (which then sees only the abort). One interceptor for
    both, so every RPC pays for one wrapper.
    """

    def wrap(self, behaviour: Behaviour, method: str) -> Behaviour:
        """``behaviour`` with its exceptions mapped to statuses."""

        async def guarded(request: Any, context: grpc.aio.ServicerContext) -> Any:
            try:
                return await behaviour(request, context)
            except grpc.aio.AbortError:
                raise
            except VeilError as error:
                marker = ((MEMBER_REFUSAL_KEY, "1"),) if isinstance(error, MemberRefusal) else ()
                await context.abort(status_of(error), str(error), marker)
                raise  # abort() raises; this keeps the type checker honest
            except Exception as error:
                # exc_info: the formatter keeps frames and types, not the message.
                log.error(
                    "rpc failed",
                    exc_info=error,
                    extra={"rpc": method, "error_type": describe(error)},
                )
                if is_transient(error):
                    await context.abort(grpc.StatusCode.UNAVAILABLE, DEPENDENCY_DETAIL)
                await context.abort(grpc.StatusCode.INTERNAL, INTERNAL_DETAIL)
                raise  # abort() raises; this keeps the type checker honest

        return guarded
