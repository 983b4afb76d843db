"""gRPC handlers of ConfessionsService: parse, call the repository, answer."""

from __future__ import annotations

import grpc

from services.confessions import domain, members
from services.confessions.config import ConfessionsSettings
from services.confessions.repository import (
    CommunityRow,
    ConfessionRow,
    ConfessionsRepository,
    Erasure,
    MemberRow,
)
from veil.core.errors import InvalidInputError, NotFoundError
from veil.core.grpc_errors import domain_errors
from veil.core.outbox import Outbox
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


def _standing(member: MemberRow) -> pb.MemberStanding:
    return pb.MemberStanding(notifications_enabled=member.notifications_enabled)


class ConfessionsServicer(pb_grpc.ConfessionsServiceServicer):
    """Thin handlers over :class:`ConfessionsRepository`; sends go through the outbox."""

    def __init__(
        self, repository: ConfessionsRepository, settings: ConfessionsSettings, *, outbox: Outbox
    ) -> None:
        self._repository = repository
        self._settings = settings
        self._outbox = outbox

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
        member = await self._repository.register_member(actor.community_id, actor.telegram_user_id)
        if member.unreachable:
            # They wrote to the bot, so they unblocked it: the notifier delivers
            # to them again first, then the flag goes (a failure in between is
            # retried on their next update).
            await self._outbox.mark_reachable(actor.community_id, actor.telegram_user_id)
            await self._repository.mark_reachable(member.id)
        return pb.RegisterMemberResponse(
            member=pb.Member(id=member.id, community_id=actor.community_id),
            created=member.created,
            standing=_standing(member),
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

    @domain_errors
    async def GetConfession(
        self, request: pb.GetConfessionRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetConfessionResponse:
        """One confession by number, with its author's internal id (never a Telegram id)."""
        found = await self._repository.get_confession(request.community_id, request.number)
        if found is None:
            raise NotFoundError(f"confession #{request.number} does not exist")
        row, author_member_id, channel_message_id = found
        return pb.GetConfessionResponse(
            confession=_confession(row),
            author_member_id=author_member_id,
            channel_message_id=channel_message_id,
        )

    @domain_errors
    async def NotifyMembers(
        self, request: pb.NotifyMembersRequest, context: grpc.aio.ServicerContext
    ) -> pb.NotifyMembersResponse:
        """Queue notices to members by internal id; skip the unreachable and opted out."""
        for notice in request.notices:
            members.check_notice(notice)
        recipients = await self._repository.recipients(
            [(n.community_id, n.member_id) for n in request.notices]
        )
        calls = []
        for notice in request.notices:
            recipient = recipients.get((notice.community_id, notice.member_id))
            # A member who erased their data is no longer there to tell.
            call = members.notice_call(notice, recipient) if recipient is not None else None
            if call is not None:
                calls.append(call)
        # The notices' own idempotency keys make a retried request queue nothing new.
        await self._outbox.send(calls)
        return pb.NotifyMembersResponse(queued=len(calls))

    # Declared in the contract for the moderation work in progress (issue 6);
    # until it lands, callers get UNIMPLEMENTED.
    async def BanMember(
        self, request: pb.BanMemberRequest, context: grpc.aio.ServicerContext
    ) -> pb.BanMemberResponse:
        """Not implemented yet."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "BanMember is not implemented yet")
        raise AssertionError("abort raises")

    @domain_errors
    async def RecordMemberActivity(
        self, request: pb.RecordMemberActivityRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordMemberActivityResponse:
        """Add to a member's counters, once per event key."""
        if not 1 <= len(request.event_key) <= 200:
            raise InvalidInputError("event_key must be 1..200 characters")
        await self._repository.record_activity(
            request.community_id,
            request.member_id,
            comments_written=request.comments_written,
            reactions_received=request.reactions_received,
            event_key=request.event_key,
        )
        return pb.RecordMemberActivityResponse()

    @domain_errors
    async def EraseMember(
        self, request: pb.EraseMemberRequest, context: grpc.aio.ServicerContext
    ) -> pb.EraseMemberResponse:
        """Erase the actor's identity and confessions; their channel posts are changed
        as the community chose (replaced by "[deleted]", or deleted)."""
        community_id = request.actor.community_id

        async def queue_channel_edits(erasure: Erasure) -> None:
            await self._outbox.send(members.erasure_calls(community_id, erasure))

        erased = await self._repository.erase_member(
            community_id, request.actor.telegram_user_id, queue_channel_edits
        )
        if erased is None:
            return pb.EraseMemberResponse()
        erasure, count = erased
        return pb.EraseMemberResponse(member_id=erasure.member_id, confessions_erased=count)

    @domain_errors
    async def SetNotifications(
        self, request: pb.SetNotificationsRequest, context: grpc.aio.ServicerContext
    ) -> pb.MemberStanding:
        """Turn the actor's optional notifications on or off."""
        enabled = await self._repository.set_notifications(
            request.actor.community_id, request.actor.telegram_user_id, request.enabled
        )
        return pb.MemberStanding(notifications_enabled=enabled)

    # Members

    @domain_errors
    async def MarkUnreachable(
        self, request: pb.MarkUnreachableRequest, context: grpc.aio.ServicerContext
    ) -> pb.MarkUnreachableResponse:
        """The member's chat answered 403: skip notices to them until they write again."""
        await self._repository.mark_unreachable(request.community_id, request.telegram_user_id)
        return pb.MarkUnreachableResponse()

    @domain_errors
    async def GetProfile(
        self, request: pb.GetProfileRequest, context: grpc.aio.ServicerContext
    ) -> pb.Profile:
        """The actor's counters and impact points (one SQL statement)."""
        row = await self._repository.profile(
            request.actor.community_id, request.actor.telegram_user_id
        )
        if row is None:
            return pb.Profile(standing=pb.MemberStanding(notifications_enabled=True))
        return pb.Profile(
            confessions_sent=row.confessions_sent,
            confessions_approved=row.confessions_approved,
            comments_written=row.comments_written,
            reactions_received=row.reactions_received,
            impact_points=members.impact_points(
                row.confessions_approved, row.comments_written, row.reactions_received
            ),
            joined_at=timestamp(row.created_at),
            standing=pb.MemberStanding(notifications_enabled=row.notifications_enabled),
        )
