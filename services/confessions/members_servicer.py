"""gRPC handlers of MembersService: parse the request, call a use case or a
repository, answer. Orchestration lives in :mod:`services.confessions.membership`."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc

from services.confessions import domain, mapping, membership
from services.confessions.cards import CardRetirement
from services.confessions.communities_repository import CommunitiesRepository
from services.confessions.members_repository import MembersRepository
from services.confessions.protection import ProtectionRepository, SubjectOf
from veil.core.errors import InvalidInputError
from veil.core.outbox import Outbox
from veil.core.proto import optional_time, timestamp
from veil.v1 import confessions_pb2 as pb
from veil.v1 import confessions_pb2_grpc as pb_grpc


class MembersServicer(pb_grpc.MembersServiceServicer):
    """Thin handlers over the members' use cases and repositories."""

    def __init__(
        self,
        repository: MembersRepository,
        communities: CommunitiesRepository,
        protection: ProtectionRepository,
        outbox: Outbox,
        subject_of: SubjectOf,
        cards: CardRetirement,
    ) -> None:
        self._cards = cards
        self._repository = repository
        self._communities = communities
        self._protection = protection
        self._outbox = outbox
        self._subject_of = subject_of

    async def RegisterMember(
        self, request: pb.RegisterMemberRequest, context: grpc.aio.ServicerContext
    ) -> pb.RegisterMemberResponse:
        """Find or create the member behind the actor."""
        actor = request.actor
        subject = self._subject_of(actor.community_id, actor.telegram_user_id)
        member, thread = await membership.register(
            self._repository,
            actor.community_id,
            actor.telegram_user_id,
            subject,
            request.thread_number,
        )
        response = pb.RegisterMemberResponse(
            member=pb.Member(
                id=member.id,
                community_id=actor.community_id,
                subject=subject,
                joined_at=timestamp(member.joined_at) if member.joined_at else None,
                confessions_approved=member.confessions_approved,
            ),
            created=member.created,
            standing=mapping.standing(
                member.ban,
                notifications_enabled=member.notifications_enabled,
                shadowed=member.shadowed,
            ),
        )
        if thread is not None:
            response.thread.CopyFrom(
                pb.GetConfessionResponse(
                    confession=mapping.confession(thread.confession),
                    author_member_id=thread.author_member_id,
                    channel_message_id=thread.channel_message_id,
                )
            )
            # The community's rules for comments and reports (issue 16).
            response.comment_rules.CopyFrom(thread.comment_rules)
        return response

    async def NotifyMembers(
        self, request: pb.NotifyMembersRequest, context: grpc.aio.ServicerContext
    ) -> pb.NotifyMembersResponse:
        """Queue notices to members by internal id; skip the unreachable and opted out.

        With ``activity``, count it (once per event key), as RecordMemberActivity
        does; ``calls`` are queued with the notices.
        """
        queued = await membership.notify(self._repository, self._outbox, request)
        return pb.NotifyMembersResponse(queued=queued)

    async def NotifyMembersMany(
        self, request: pb.NotifyMembersManyRequest, context: grpc.aio.ServicerContext
    ) -> pb.NotifyMembersResponse:
        """Several NotifyMembers at once (a relay's batch), all checked first;
        their calls queued in one Enqueue."""
        queued = await membership.notify_many(self._repository, self._outbox, request.requests)
        return pb.NotifyMembersResponse(queued=queued)

    async def BanMember(
        self, request: pb.BanMemberRequest, context: grpc.aio.ServicerContext
    ) -> pb.BanMemberResponse:
        """Ban a member of a community (optionally until a time) and tell them, once."""
        until = optional_time(request, "until")
        if until is not None and until <= datetime.now(UTC):
            raise InvalidInputError("a ban must end in the future")
        ban = await membership.ban(
            self._protection,
            self._communities,
            self._outbox,
            self._cards,
            request.community_id,
            request.member_id,
            until=until,
            reason=request.reason.strip()[:200],
            label=request.label.strip()[:64] or "a member",
            shadow=request.shadow,
        )
        if ban.shadow:
            return pb.BanMemberResponse(standing=mapping.standing(None, shadowed=True))
        return pb.BanMemberResponse(standing=mapping.standing(ban))

    async def UnbanMember(
        self, request: pb.UnbanMemberRequest, context: grpc.aio.ServicerContext
    ) -> pb.UnbanMemberResponse:
        """Lift bans by id or by label, never per member."""
        lifted = await self._protection.unban(
            request.community_id, ban_id=request.ban_id, label=request.label
        )
        return pb.UnbanMemberResponse(unbanned=lifted > 0, lifted=lifted)

    async def ListBans(
        self, request: pb.ListBansRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListBansResponse:
        """Bans in force, each its own entry, by id and the label admins gave."""
        rows = await self._protection.list_bans(request.community_id)
        return pb.ListBansResponse(bans=[mapping.ban(row) for row in rows])

    async def RecordMemberActivity(
        self, request: pb.RecordMemberActivityRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordMemberActivityResponse:
        """Add to a member's counters, once per event key."""
        await membership.record_activity(self._repository, request)
        return pb.RecordMemberActivityResponse()

    async def EraseMember(
        self, request: pb.EraseMemberRequest, context: grpc.aio.ServicerContext
    ) -> pb.EraseMemberResponse:
        """Erase the member's identity and confessions; their channel posts are changed
        as the community chose (replaced by "[deleted]", or deleted).

        Called by the social service once the member's comments are gone (the
        /deleteme sequence lives there: social → confessions, the one direction
        these two call in)."""
        community_id = request.community_id
        chat_id = await self._repository.chat_of(community_id, request.member_id)
        if chat_id is None:
            return pb.EraseMemberResponse()
        erased = await membership.erase(
            self._repository,
            self._outbox,
            self._cards,
            community_id,
            chat_id,
            self._subject_of(community_id, chat_id),
        )
        if erased is None:
            return pb.EraseMemberResponse()
        erasure, count = erased
        return pb.EraseMemberResponse(member_id=erasure.member_id, confessions_erased=count)

    async def SetNotifications(
        self, request: pb.SetNotificationsRequest, context: grpc.aio.ServicerContext
    ) -> pb.MemberStanding:
        """Turn the actor's optional notifications on or off."""
        enabled = await membership.set_notifications(
            self._repository,
            self._cards,
            request.actor.community_id,
            request.actor.telegram_user_id,
            request.enabled,
        )
        return pb.MemberStanding(notifications_enabled=enabled)

    async def MarkUnreachable(
        self, request: pb.MarkUnreachableRequest, context: grpc.aio.ServicerContext
    ) -> pb.MarkUnreachableResponse:
        """The member's chat answered 403: skip notices to them until they write again."""
        await membership.mark_unreachable(
            self._repository, self._cards, request.community_id, request.telegram_user_id
        )
        return pb.MarkUnreachableResponse()

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
            impact_points=domain.impact_points(
                row.confessions_approved, row.comments_written, row.reactions_received
            ),
            joined_at=timestamp(row.created_at),
            standing=pb.MemberStanding(notifications_enabled=row.notifications_enabled),
        )
