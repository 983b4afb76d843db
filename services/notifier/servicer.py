"""gRPC handlers of NotifierService."""

from __future__ import annotations

import grpc
import orjson
from google.protobuf.timestamp_pb2 import Timestamp

from services.notifier.config import LimitDefaults
from services.notifier.erasure import QueueErasure
from services.notifier.repository import NotifierRepository
from services.notifier.repository.rows import LimitsRow, NewMessage
from veil.core.errors import InvalidInputError
from veil.core.proto import optional_time
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
        not_before=optional_time(message, "not_before"),
        trace_context=dict(message.trace_context),
        edit_of=message.edit_of or None,
    )


def _positive_or_none(value: float, name: str) -> float | None:
    if value < 0:
        raise InvalidInputError(f"{name} must not be negative")
    return value or None


class NotifierServicer(pb_grpc.NotifierServiceServicer):
    """Thin handlers over :class:`NotifierRepository`."""

    def __init__(
        self,
        repository: NotifierRepository,
        defaults: LimitDefaults,
        erasure: QueueErasure | None = None,
    ) -> None:
        self._repository = repository
        self._defaults = defaults
        self._erasure = erasure

    async def Erase(
        self, request: pb.EraseRequest, context: grpc.aio.ServicerContext
    ) -> pb.EraseResponse:
        """Erase a member's traces in the queue (see services/notifier/erasure.py)."""
        if self._erasure is None or request.community_id <= 0:
            raise InvalidInputError("community_id is required")
        posted = request.posted
        erased = await self._erasure.erase(
            request.community_id,
            list(request.chat_ids),
            list(request.idempotency_keys),
            posted_in=posted.chat_id,
            posted_prefixes=list(posted.key_prefixes),
        )
        if erased.posted:
            # Delete what the member's words became in that chat (idempotent per message).
            await self._repository.enqueue(
                [
                    NewMessage(
                        community_id=request.community_id,
                        chat_id=posted.chat_id,
                        method="deleteMessage",
                        params={"chat_id": posted.chat_id, "message_id": message_id},
                        priority=pb.PRIORITY_INTERACTIVE,
                        idempotency_key=f"erased:{key}",
                        collapse_key=None,
                        not_before=None,
                    )
                    for key, message_id in erased.posted
                ]
            )
        return pb.EraseResponse(
            deleted=erased.deleted, scrubbed=erased.scrubbed, removals_queued=len(erased.posted)
        )

    async def Enqueue(
        self, request: pb.EnqueueRequest, context: grpc.aio.ServicerContext
    ) -> pb.EnqueueResponse:
        """Queue a batch of Bot API calls, idempotently."""
        if not 1 <= len(request.messages) <= MAX_BATCH:
            raise InvalidInputError(f"a batch holds 1..{MAX_BATCH} messages")
        ids, accepted = await self._repository.enqueue([_new_message(m) for m in request.messages])
        return pb.EnqueueResponse(ids=ids, accepted=accepted)

    async def GetQueueStats(
        self, request: pb.GetQueueStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetQueueStatsResponse:
        """Queue depth and oldest age per community and priority."""
        rows = await self._repository.queue_stats()
        totals = await self._repository.status_counts()
        letters = []
        for letter in await self._repository.dead_letter_stats():
            latest = Timestamp()
            latest.FromDatetime(letter.latest)
            letters.append(
                pb.DeadLetterStat(
                    community_id=letter.community_id,
                    error_code=letter.error_code,
                    description=letter.description,
                    count=letter.count,
                    latest=latest,
                )
            )
        return pb.GetQueueStatsResponse(
            dead_letters=letters,
            totals=[
                pb.StatusCount(community_id=t.community_id, status=t.status, count=t.count)
                for t in totals
            ],
            stats=[
                pb.QueueStat(
                    community_id=r.community_id,
                    priority=r.priority,  # type: ignore[arg-type]
                    depth=r.depth,
                    oldest_age_seconds=r.oldest_age_seconds,
                )
                for r in rows
            ],
        )

    def _limits(self, community_id: int, row: LimitsRow | None) -> pb.CommunityLimits:
        d = self._defaults
        return pb.CommunityLimits(
            community_id=community_id,
            per_second=(row and row.per_second) or d.notifier_per_second,
            per_private_chat_per_second=(row and row.per_private_chat_per_second)
            or d.notifier_per_private_chat_per_second,
            per_group_per_minute=(row and row.per_group_per_minute)
            or d.notifier_per_group_per_minute,
        )

    async def SetCommunityLimits(
        self, request: pb.CommunityLimits, context: grpc.aio.ServicerContext
    ) -> pb.CommunityLimits:
        """Store a community's limits (zero fields fall back to the defaults)."""
        if request.community_id <= 0:
            raise InvalidInputError("community_id is required")
        row = LimitsRow(
            community_id=request.community_id,
            per_second=_positive_or_none(request.per_second, "per_second"),
            per_private_chat_per_second=_positive_or_none(
                request.per_private_chat_per_second, "per_private_chat_per_second"
            ),
            per_group_per_minute=_positive_or_none(
                request.per_group_per_minute, "per_group_per_minute"
            ),
        )
        await self._repository.set_limits(row)
        return self._limits(request.community_id, row)

    async def GetCommunityLimits(
        self, request: pb.GetCommunityLimitsRequest, context: grpc.aio.ServicerContext
    ) -> pb.CommunityLimits:
        """A community's limits, defaults where none are set."""
        row = await self._repository.get_limits(request.community_id)
        return self._limits(request.community_id, row)
