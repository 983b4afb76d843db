"""gRPC handlers of ConfessionsService: parse, call the repository, answer."""

from __future__ import annotations

import grpc

from services.confessions import domain
from services.confessions.config import ConfessionsSettings
from services.confessions.repository import CommunityRow, ConfessionRow, ConfessionsRepository
from veil.core.errors import NotFoundError
from veil.core.grpc_errors import domain_errors
from veil.core.proto import page_bounds, timestamp
from veil.v1 import confessions_pb2 as pb
from veil.v1 import confessions_pb2_grpc as pb_grpc

_STATUS = {
    "pending": pb.CONFESSION_STATUS_PENDING,
    "approved": pb.CONFESSION_STATUS_APPROVED,
    "rejected": pb.CONFESSION_STATUS_REJECTED,
    "published": pb.CONFESSION_STATUS_PUBLISHED,
    "deleted": pb.CONFESSION_STATUS_DELETED,
}


def _community(row: CommunityRow, *, include_secrets: bool) -> pb.Community:
    return pb.Community(
        id=row.id,
        bot_id=row.bot_id,
        bot_token=row.bot_token if include_secrets else "",
        bot_username=row.bot_username,
        channel_chat_id=row.channel_chat_id,
        admin_chat_id=row.admin_chat_id,
        title=row.title,
        created_at=timestamp(row.created_at),
    )


def _confession(row: ConfessionRow) -> pb.Confession:
    return pb.Confession(
        id=row.id,
        number=row.number,
        community_id=row.community_id,
        text=row.text,
        status=_STATUS[row.status],
        created_at=timestamp(row.created_at),
    )


class ConfessionsServicer(pb_grpc.ConfessionsServiceServicer):
    """Thin handlers over :class:`ConfessionsRepository`."""

    def __init__(self, repository: ConfessionsRepository, settings: ConfessionsSettings) -> None:
        self._repository = repository
        self._settings = settings

    @domain_errors
    async def UpsertCommunity(
        self, request: pb.UpsertCommunityRequest, context: grpc.aio.ServicerContext
    ) -> pb.Community:
        """Register or update a community."""
        row = await self._repository.upsert_community(
            bot_id=domain.parse_bot_id(request.bot_token),
            bot_token=request.bot_token,
            bot_username=request.bot_username.lstrip("@"),
            channel_chat_id=request.channel_chat_id,
            admin_chat_id=request.admin_chat_id,
            title=request.title or request.bot_username,
        )
        return _community(row, include_secrets=False)

    @domain_errors
    async def ListCommunities(
        self, request: pb.ListCommunitiesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListCommunitiesResponse:
        """Every community; tokens only when asked for."""
        rows = await self._repository.list_communities()
        return pb.ListCommunitiesResponse(
            communities=[_community(r, include_secrets=request.include_secrets) for r in rows]
        )

    @domain_errors
    async def RegisterMember(
        self, request: pb.RegisterMemberRequest, context: grpc.aio.ServicerContext
    ) -> pb.RegisterMemberResponse:
        """Find or create the member behind the actor."""
        actor = request.actor
        member_id, created = await self._repository.register_member(
            actor.community_id, actor.telegram_user_id
        )
        return pb.RegisterMemberResponse(
            member=pb.Member(id=member_id, community_id=actor.community_id), created=created
        )

    @domain_errors
    async def SubmitConfession(
        self, request: pb.SubmitConfessionRequest, context: grpc.aio.ServicerContext
    ) -> pb.SubmitConfessionResponse:
        """Store a pending confession (idempotent on the key)."""
        row, created = await self._repository.submit_confession(
            request.actor.community_id,
            request.actor.telegram_user_id,
            domain.clean_confession_text(request.text, self._settings.confession_max_length),
            domain.clean_idempotency_key(request.idempotency_key),
        )
        return pb.SubmitConfessionResponse(confession=_confession(row), created=created)

    @domain_errors
    async def ListMyConfessions(
        self, request: pb.ListMyConfessionsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListMyConfessionsResponse:
        """The actor's confessions, newest first."""
        limit, offset = page_bounds(request.page.limit, request.page.offset)
        rows, total = await self._repository.list_member_confessions(
            request.actor.community_id, request.actor.telegram_user_id, limit, offset
        )
        return pb.ListMyConfessionsResponse(confessions=[_confession(r) for r in rows], total=total)

    # Declared in the contract for the moderation work in progress
    # (issues 6 and 7); until each lands, callers get UNIMPLEMENTED.
    @domain_errors
    async def GetConfession(
        self, request: pb.GetConfessionRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetConfessionResponse:
        """One confession by number, with its author's internal id (never a Telegram id)."""
        found = await self._repository.get_confession(request.community_id, request.number)
        if found is None:
            raise NotFoundError(f"confession #{request.number} does not exist")
        row, author_member_id = found
        return pb.GetConfessionResponse(
            confession=_confession(row), author_member_id=author_member_id
        )

    async def NotifyMembers(
        self, request: pb.NotifyMembersRequest, context: grpc.aio.ServicerContext
    ) -> pb.NotifyMembersResponse:
        """Not implemented yet."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "NotifyMembers is not implemented yet")
        raise AssertionError("abort raises")

    async def BanMember(
        self, request: pb.BanMemberRequest, context: grpc.aio.ServicerContext
    ) -> pb.BanMemberResponse:
        """Not implemented yet."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "BanMember is not implemented yet")
        raise AssertionError("abort raises")

    async def RecordMemberActivity(
        self, request: pb.RecordMemberActivityRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordMemberActivityResponse:
        """Not implemented yet."""
        await context.abort(
            grpc.StatusCode.UNIMPLEMENTED, "RecordMemberActivity is not implemented yet"
        )
        raise AssertionError("abort raises")

    async def EraseMember(
        self, request: pb.EraseMemberRequest, context: grpc.aio.ServicerContext
    ) -> pb.EraseMemberResponse:
        """Not implemented yet."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "EraseMember is not implemented yet")
        raise AssertionError("abort raises")

    async def SetNotifications(
        self, request: pb.SetNotificationsRequest, context: grpc.aio.ServicerContext
    ) -> pb.MemberStanding:
        """Not implemented yet."""
        await context.abort(
            grpc.StatusCode.UNIMPLEMENTED, "SetNotifications is not implemented yet"
        )
        raise AssertionError("abort raises")
