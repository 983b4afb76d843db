"""gRPC handlers of ConfessionsService: parse the request, call a use case or a
repository, answer.

Submission is :mod:`services.confessions.submit`; the decision and the
publication loop that follows an approval are :mod:`services.confessions.moderate`;
the moderation Mini App's RPCs are :class:`services.confessions.dashboard.DashboardRpcs`.
"""

from __future__ import annotations

import grpc

from services.confessions import domain, mapping, moderate
from services.confessions.confessions_repository import ConfessionsRepository
from services.confessions.dashboard import DashboardRpcs
from services.confessions.dashboard_repository import DashboardRepository
from services.confessions.protection import SubjectOf
from services.confessions.submission_limits import SubmissionLimits
from services.confessions.submit import Draft, submit
from services.confessions.take_down import TakeDownRpcs
from veil.core.errors import InvalidInputError, NotFoundError
from veil.core.outbox import RelayedOutbox
from veil.core.proto import page_bounds
from veil.v1 import confessions_pb2 as pb
from veil.v1 import confessions_pb2_grpc as pb_grpc

# action → (status it moves to, the decision as stored)
_TARGETS = {
    pb.MODERATION_ACTION_APPROVE: ("approved", "approve"),
    pb.MODERATION_ACTION_REJECT: ("rejected", "reject"),
    pb.MODERATION_ACTION_BAN: ("rejected", "ban"),
}
_DECISIONS = {stored: action for action, (_, stored) in _TARGETS.items()}


class ConfessionsServicer(DashboardRpcs, TakeDownRpcs, pb_grpc.ConfessionsServiceServicer):
    """Thin handlers over the confessions' use cases and repositories."""

    def __init__(
        self,
        repository: ConfessionsRepository,
        dashboard: DashboardRepository,
        moderation: moderate.Moderation,
        *,
        limits: SubmissionLimits,
        subject_of: SubjectOf,
        max_length: int,
        cards_out: RelayedOutbox,
    ) -> None:
        self._repository = repository
        self._dashboard = dashboard
        self._moderation = moderation
        self._cards_out = cards_out
        self._limits = limits
        self._subject_of = subject_of
        self._max_length = max_length

    async def SubmitConfession(
        self, request: pb.SubmitConfessionRequest, context: grpc.aio.ServicerContext
    ) -> pb.SubmitConfessionResponse:
        """Store a pending confession under the community's rules; queue the admins' card.

        Idempotent on the key (see :mod:`services.confessions.submit`).
        """
        actor = request.actor
        draft = Draft(
            community_id=actor.community_id,
            telegram_user_id=actor.telegram_user_id,
            subject=self._subject_of(actor.community_id, actor.telegram_user_id),
            text=request.text,
            key=domain.clean_idempotency_key(request.idempotency_key),
            media=domain.clean_media(request.media.kind, request.media.file_id),
            entities=tuple((e.type, e.offset, e.length) for e in request.entities),
        )
        stored = await submit(
            self._repository.db,
            self._repository.seal,
            self._limits,
            self._cards_out,
            draft,
            max_length=self._max_length,
        )
        return pb.SubmitConfessionResponse(
            confession=mapping.confession(stored.confession), created=stored.created
        )

    async def ListMyConfessions(
        self, request: pb.ListMyConfessionsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListMyConfessionsResponse:
        """The actor's confessions, newest first."""
        limit, offset = page_bounds(request.page.limit, request.page.offset)
        rows, total = await self._repository.list_member_confessions(
            request.actor.community_id, request.actor.telegram_user_id, limit, offset
        )
        return pb.ListMyConfessionsResponse(
            confessions=[mapping.confession(r) for r in rows], total=total
        )

    async def GetConfession(
        self, request: pb.GetConfessionRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetConfessionResponse:
        """One confession by number, with its author's internal id (never a Telegram id)."""
        found = await self._repository.get_confession(
            request.community_id, request.number, request.confession_id
        )
        if found is None:
            raise NotFoundError(f"confession #{request.number} does not exist")
        row, author_member_id, channel_message_id = found
        return pb.GetConfessionResponse(
            confession=mapping.confession(row),
            author_member_id=author_member_id,
            channel_message_id=channel_message_id,
        )

    async def ModerateConfession(
        self, request: pb.ModerateConfessionRequest, context: grpc.aio.ServicerContext
    ) -> pb.ModerateConfessionResponse:
        """Approve, reject or reject-and-ban a pending confession; one decision wins.

        What follows (the channel post and its publication loop, the author's
        notice) is :mod:`services.confessions.moderate`.
        """
        target = _TARGETS.get(request.action)
        if target is None:
            raise InvalidInputError("action must be approve, reject or ban")
        press = moderate.Press(
            community_id=request.community_id,
            confession_id=request.confession_id,
            to=target[0],
            decision=target[1],
            moderator=request.moderator,
            reason=request.reason,
            edit_card=request.edit_card,
        )
        decision = await moderate.moderate(self._moderation, press)
        return pb.ModerateConfessionResponse(
            won=decision.won,
            confession=mapping.confession(decision.confession),
            moderator=decision.moderator,
            reason=decision.reason,
            action=_DECISIONS.get(decision.decision, pb.MODERATION_ACTION_UNSPECIFIED),
        )

    async def RecordPublication(
        self, request: pb.RecordPublicationRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordPublicationResponse:
        """Store the channel post's id, mark the confession published, tell the author
        (step 3 of the publication loop, see :mod:`services.confessions.moderate`)."""
        published = await moderate.record_publication(
            self._moderation,
            request.community_id,
            request.confession_id,
            request.channel_message_id,
        )
        return pb.RecordPublicationResponse(published=published)
