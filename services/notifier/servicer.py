"""gRPC handlers of NotifierService."""

from __future__ import annotations

import grpc
import orjson

from services.notifier.repository import NewMessage, NotifierRepository
from veil.core.errors import InvalidInputError
from veil.core.grpc_errors import domain_errors
from veil.v1 import notifier_pb2 as pb
from veil.v1 import notifier_pb2_grpc as pb_grpc

MAX_BATCH = 500


def _new_message(message: pb.OutgoingMessage) -> NewMessage:
    if not message.method or not message.idempotency_key:
        raise InvalidInputError("method and idempotency_key are required")
    try:
        params = orjson.loads(message.params_json or "{}")
    except orjson.JSONDecodeError as error:
        raise InvalidInputError(f"params_json is not JSON: {error}") from error
    if not isinstance(params, dict):
        raise InvalidInputError("params_json must be a JSON object")
    params.setdefault("chat_id", message.chat_id)
    return NewMessage(
        community_id=message.community_id,
        chat_id=message.chat_id,
        method=message.method,
        params=params,
        priority=message.priority or pb.PRIORITY_NOTIFICATION,
        idempotency_key=message.idempotency_key,
        collapse_key=message.collapse_key or None,
        not_before=message.not_before.ToDatetime(tzinfo=None).astimezone()
        if message.HasField("not_before")
        else None,
    )


class NotifierServicer(pb_grpc.NotifierServiceServicer):
    """Thin handlers over :class:`NotifierRepository`."""

    def __init__(self, repository: NotifierRepository) -> None:
        self._repository = repository

    @domain_errors
    async def Enqueue(
        self, request: pb.EnqueueRequest, context: grpc.aio.ServicerContext
    ) -> pb.EnqueueResponse:
        """Queue a batch of Bot API calls, idempotently."""
        if not 1 <= len(request.messages) <= MAX_BATCH:
            raise InvalidInputError(f"a batch holds 1..{MAX_BATCH} messages")
        ids, accepted = await self._repository.enqueue([_new_message(m) for m in request.messages])
        return pb.EnqueueResponse(ids=ids, accepted=accepted)

    @domain_errors
    async def GetQueueStats(
        self, request: pb.GetQueueStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetQueueStatsResponse:
        """Queue depth and oldest age per community and priority."""
        rows = await self._repository.queue_stats()
        return pb.GetQueueStatsResponse(
            stats=[
                pb.QueueStat(
                    community_id=r.community_id,
                    priority=r.priority,  # type: ignore[arg-type]
                    depth=r.depth,
                    oldest_age_seconds=r.oldest_age_seconds,
                )
                for r in rows
            ]
        )
