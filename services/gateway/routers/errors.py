"""What the member hears when something fails while handling their update."""

from __future__ import annotations

import logging

import grpc
from aiogram import Bot, Router
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent
from redis.exceptions import ClusterError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from services.gateway.views import texts
from services.gateway.webhook_reply import drop_held
from veil.core.grpc_errors import DEPENDENCY_DETAIL
from veil.core.redact import redact_message

log = logging.getLogger(__name__)
router = Router(name="errors")

# Codes after which the call may or may not have happened; the member retries
# and the idempotency keys make that safe.
_TRANSIENT = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.ABORTED,
}


async def _tell(event: ErrorEvent, bot: Bot, text: str) -> None:
    """Tell the member, unless Telegram refuses for good (blocked, chat gone).

    A refusal is final, so the update is done; network failures still
    propagate and Telegram redelivers.
    """
    update = event.update
    # What the handler held for the 200 was its answer had it finished; the
    # apology takes its place (a held button answer would also take the
    # query's one answer before the apology could).
    drop_held()
    try:
        if update.callback_query is not None:
            await bot.answer_callback_query(update.callback_query.id, text=text, show_alert=True)
        elif update.message is not None and update.message.chat.type == "private":
            await bot.send_message(update.message.chat.id, text)
    except (TelegramBadRequest, TelegramForbiddenError) as refusal:
        log.warning(
            "could not tell the member",
            extra={"update_id": update.update_id, "error": refusal.message},
        )


@router.errors(ExceptionTypeFilter(grpc.aio.AioRpcError))
async def service_failed(event: ErrorEvent, bot: Bot) -> None:
    """A service call failed: a transient failure asks to retry, others apologise.

    A service whose Redis or Postgres was out of reach (a failover, a restart)
    answers UNAVAILABLE "dependency unavailable", or runs out of time while its
    client waits for the new master (DEADLINE_EXCEEDED): the error propagates,
    the webhook answers 500, and Telegram redelivers the update once the
    dependency is back (handlers are idempotent, submissions carry an
    idempotency key). The member hears nothing until it has worked. A service
    that cannot be reached at all is answered "try again" at once.
    """
    error = event.exception
    assert isinstance(error, grpc.aio.AioRpcError)
    code = error.code()
    if code == grpc.StatusCode.DEADLINE_EXCEEDED or (
        code == grpc.StatusCode.UNAVAILABLE and error.details() == DEPENDENCY_DETAIL
    ):
        log.warning(
            "service dependency unavailable, update left for redelivery",
            extra={"update_id": event.update.update_id},
        )
        raise error
    log.warning(
        "service call failed",
        extra={
            "update_id": event.update.update_id,
            "grpc_code": code.name,
            # Services answer failures with fixed details; redacted all the
            # same, in case a detail ever quotes what a member wrote.
            "grpc_details": redact_message(error.details() or ""),
        },
    )
    await _tell(event, bot, texts.TRY_AGAIN if code in _TRANSIENT else texts.FAILED)


# Failures of infrastructure that come back on their own: Telegram out of
# reach, or Redis during a failover. They must not be swallowed: the webhook
# then answers 500 and Telegram redelivers the update, whose handlers are
# idempotent.
_TRANSIENT_ERRORS = (
    TelegramNetworkError,
    TelegramServerError,
    TelegramRetryAfter,
    RedisConnectionError,
    RedisTimeoutError,
    ClusterError,
    TryAgainError,
)


class _Unexpected(ExceptionTypeFilter):
    """Any error but a transient one (those propagate for redelivery)."""

    def __init__(self) -> None:
        super().__init__(Exception)

    async def __call__(self, obj: object) -> bool | dict[str, object]:  # type: ignore[override]
        return not isinstance(getattr(obj, "exception", None), _TRANSIENT_ERRORS)


@router.errors(_Unexpected())
async def unexpected(event: ErrorEvent, bot: Bot) -> None:
    """A bug or bad data: log the kind (never the content) and apologise once."""
    log.error(
        "update handling failed",
        extra={"update_id": event.update.update_id, "error_type": type(event.exception).__name__},
    )
    await _tell(event, bot, texts.FAILED)
