"""RPCs of the moderation Mini App, part of :class:`ConfessionsServicer`.

The queue of pending confessions and figures. None of them returns a member's
identity: confessions, numbers and counts only. (A decision taken in the Mini
App is ModerateConfession with ``edit_card``.)
(The rules form's SetCommunityRules is CommunitiesService's.)
"""

from __future__ import annotations

import grpc

from services.confessions import mapping
from services.confessions.dashboard_repository import DashboardRepository
from veil.core.errors import InvalidInputError
from veil.v1 import confessions_pb2 as pb

DEFAULT_QUEUE = 50
MAX_QUEUE = 200
DEFAULT_DAYS = 14
MAX_DAYS = 90
MAX_NUMBERS = 50


class DashboardRpcs:
    """The Mini App's RPCs of ConfessionsService, over :class:`DashboardRepository`."""

    _dashboard: DashboardRepository

    async def ListPending(
        self, request: pb.ListPendingRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPendingResponse:
        """Pending confessions, oldest first, and how many there are."""
        if not 0 <= request.limit <= MAX_QUEUE:
            raise InvalidInputError(f"limit must be 0..{MAX_QUEUE}")
        rows, total = await self._dashboard.pending(
            request.community_id, request.limit or DEFAULT_QUEUE
        )
        return pb.ListPendingResponse(
            confessions=[
                pb.PendingConfession(
                    confession=mapping.confession(row.confession),
                    flagged_word=row.flagged_word or "",
                    pii_found=row.pii_found or "",
                )
                for row in rows
            ],
            total=total,
        )

    async def GetCommunityStats(
        self, request: pb.GetCommunityStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.CommunityStats:
        """Confessions per day, decisions, median time to a decision, confessing members."""
        if not 0 <= request.days <= MAX_DAYS:
            raise InvalidInputError(f"days must be 0..{MAX_DAYS}")
        if len(request.number_of) > MAX_NUMBERS:
            raise InvalidInputError(f"at most {MAX_NUMBERS} ids in number_of")
        days = request.days or DEFAULT_DAYS
        figures = await self._dashboard.figures(request.community_id, days, request.number_of)
        return pb.CommunityStats(
            days=days,
            per_day=[pb.DayCount(day=d.isoformat(), confessions=n) for d, n in figures.per_day],
            approved=figures.approved,
            rejected=figures.rejected,
            median_decision_seconds=figures.median_decision_seconds,
            confessing_members=figures.confessing_members,
            pending=figures.pending,
            numbers=figures.numbers,
        )

    async def GetConfessionNumbers(
        self, request: pb.GetConfessionNumbersRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetConfessionNumbersResponse:
        """Numbers of the community's confessions among the ids asked."""
        if len(request.confession_ids) > MAX_QUEUE:
            raise InvalidInputError(f"at most {MAX_QUEUE} ids")
        numbers = await self._dashboard.numbers(request.community_id, request.confession_ids)
        return pb.GetConfessionNumbersResponse(numbers=numbers)
