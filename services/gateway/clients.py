"""The gateway's calls to the services: one typed method per question it asks.

Handlers parse the update, call one of these, and answer; no handler builds a
protobuf request itself. The stubs stay reachable (``confessions``,
``social``) for the registry and the Mini App's list views.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import grpc

from services.gateway.entities import as_proto
from services.gateway.miniapp_calls import MiniAppCalls
from services.gateway.registry import CommunityEntry
from services.gateway.report_calls import ReportCalls
from services.gateway.safety_calls import SafetyCalls
from services.gateway.service_types import (
    DECISIONS,
    HIDDEN_DECISIONS,
    Thread,
    ThreadNotFoundError,
    actor,
    answered_page,
    not_found,
    open_thread,
    thread_rules,
)
from veil.contracts.callbacks import FLAG_BUTTONS, CardButton, HiddenButton
from veil.contracts.lengths import COMMENTS_PAGE_SIZE
from veil.core import confessions_stubs
from veil.core.grpc_client import create_channel
from veil.core.proto import timestamp
from veil.v1 import (
    common_pb2,
    confessions_pb2,
    confessions_pb2_grpc,
    safety_pb2_grpc,
    social_pb2,
    social_pb2_grpc,
)


@dataclass(frozen=True)
class ServiceClients(SafetyCalls, ReportCalls, MiniAppCalls):
    """One stub per service the gateway calls, and the typed calls on them.

    ``communities``, ``members`` and ``confessions`` are the three services of
    the confessions process, on one channel.
    """

    communities: confessions_pb2_grpc.CommunitiesServiceStub
    members: confessions_pb2_grpc.MembersServiceStub
    confessions: confessions_pb2_grpc.ConfessionsServiceStub
    safety: safety_pb2_grpc.SafetyServiceStub
    social: social_pb2_grpc.SocialServiceStub
    channels: tuple[grpc.aio.Channel, ...]

    @classmethod
    def connect(cls, confessions: str, social: str) -> ServiceClients:
        """Open channels to the confessions and social processes."""
        upstream, confessions_channel = confessions_stubs.connect(confessions)
        social_channel = create_channel(
            social, [social_pb2.DESCRIPTOR.services_by_name["SocialService"].full_name]
        )
        return cls(
            communities=upstream.communities,
            members=upstream.members,
            confessions=upstream.confessions,
            safety=upstream.safety,
            social=social_pb2_grpc.SocialServiceStub(social_channel),
            channels=(confessions_channel, social_channel),
        )

    async def close(self) -> None:
        """Close every channel."""
        for channel in self.channels:
            await channel.close()

    # -- members --------------------------------------------------------------

    async def member(
        self, community: CommunityEntry, telegram_user_id: int, thread: int = 0
    ) -> confessions_pb2.RegisterMemberResponse:
        """The member (registered on first sight) with their standing; with
        ``thread``, that thread's confession too, in the same call."""
        response: confessions_pb2.RegisterMemberResponse = await self.members.RegisterMember(
            confessions_pb2.RegisterMemberRequest(
                actor=actor(community, telegram_user_id), thread_number=thread
            )
        )
        return response

    async def set_notifications(
        self, community: CommunityEntry, telegram_user_id: int, enabled: bool
    ) -> confessions_pb2.MemberStanding:
        """Turn the member's optional notifications on or off; their standing after."""
        standing: confessions_pb2.MemberStanding = await self.members.SetNotifications(
            confessions_pb2.SetNotificationsRequest(
                actor=actor(community, telegram_user_id), enabled=enabled
            )
        )
        return standing

    async def submit(
        self,
        community: CommunityEntry,
        telegram_user_id: int,
        text: str,
        *,
        key: str,
        media_kind: str = "",
        file_id: str = "",
        entities: Iterable[Sequence[Any]] = (),
    ) -> confessions_pb2.SubmitConfessionResponse:
        """Submit a confession for review; ``key`` makes a repeat return the first one.

        ``entities`` are Telegram's (type, offset, length) of the text, for the
        doxxing guard. The community's rules refuse with INVALID_ARGUMENT (the
        draft can be fixed) or FAILED_PRECONDITION (banned, cooling down, over
        the cap).
        """
        response: confessions_pb2.SubmitConfessionResponse = (
            await self.confessions.SubmitConfession(
                confessions_pb2.SubmitConfessionRequest(
                    actor=actor(community, telegram_user_id),
                    text=text,
                    idempotency_key=key,
                    media=confessions_pb2.Media(kind=media_kind, file_id=file_id),
                    entities=as_proto(entities),
                )
            )
        )
        return response

    async def erase(self, community: CommunityEntry, telegram_user_id: int) -> None:
        """Erase the member in every service: one call (the social service erases its
        part, then has the confessions service erase theirs). Idempotent: a
        redelivered press redoes what a failure left."""
        registered = await self.member(community, telegram_user_id)
        await self.social.EraseMember(
            social_pb2.EraseSocialMemberRequest(
                community_id=community.id,
                member_id=registered.member.id,
                subject=registered.member.subject,
            )
        )

    # -- threads --------------------------------------------------------------

    async def thread(self, community: CommunityEntry, number: int) -> Thread:
        """Thread ``number``, when open; ThreadNotFoundError otherwise."""
        try:
            found = await self.confessions.GetConfession(
                confessions_pb2.GetConfessionRequest(community_id=community.id, number=number)
            )
        except grpc.aio.AioRpcError as error:
            if not_found(error):
                raise ThreadNotFoundError from error
            raise
        return open_thread(community, number, found)

    async def comments(
        self, thread: Thread, member_id: int, page: int, sort: int, *, consistent: bool
    ) -> social_pb2.ListCommentsResponse:
        """One page of the thread as ``member_id`` sees it (``consistent``: from the primary)."""
        response: social_pb2.ListCommentsResponse = await self.social.ListComments(
            social_pb2.ListCommentsRequest(
                community_id=thread.context.community_id,
                confession_id=thread.context.confession_id,
                limit=COMMENTS_PAGE_SIZE,
                offset=page * COMMENTS_PAGE_SIZE,
                viewer_member_id=member_id,
                sort=social_pb2.CommentSort.ValueType(sort),
                consistent=consistent,
            )
        )
        return response

    async def add_comment(
        self,
        thread: Thread,
        member: confessions_pb2.RegisterMemberResponse,
        parent: int,
        text: str,
        key: str,
        entities: Iterable[Sequence[Any]] = (),
        *,
        shadow: bool = False,
        after: social_pb2.PageAfter | None = None,
    ) -> social_pb2.AddCommentResponse:
        """Store a comment (or reply to ``parent``); ``key`` makes a repeat store nothing new.

        The social service applies the community's rules (the member's
        ``comment_rules``) in-process; one that refuses answers INVALID_ARGUMENT
        with a MemberRefusal. ``shadow``: the writer is shadow-banned, the
        comment shows to them only. ``after``: the page to answer with.
        """
        response: social_pb2.AddCommentResponse = await self.social.AddComment(
            social_pb2.AddCommentRequest(
                community_id=thread.context.community_id,
                confession_id=thread.context.confession_id,
                member_id=member.member.id,
                parent_id=parent,
                text=text,
                idempotency_key=key,
                thread=thread.context,
                rules=thread_rules(member),
                entities=as_proto(entities),
                shadow=shadow,
                page_after=after,
            )
        )
        return response

    async def react(
        self,
        thread: Thread,
        member: confessions_pb2.Member,
        comment: int,
        value: int,
        after: social_pb2.PageAfter | None = None,
    ) -> social_pb2.ListCommentsResponse | None:
        """Set the member's reaction to ``comment`` (1, -1 or 0 for none); the
        page ``after`` asks for, as it stands after the reaction."""
        response = await self.social.React(
            social_pb2.ReactRequest(
                community_id=thread.context.community_id,
                comment_id=comment,
                member_id=member.id,
                value=value,
                thread=thread.context,
                subject=member.subject,
                page_after=after,
            )
        )
        return answered_page(response)

    async def delete_comment(
        self,
        thread: Thread,
        member_id: int,
        comment: int,
        after: social_pb2.PageAfter | None = None,
    ) -> tuple[bool, social_pb2.ListCommentsResponse | None]:
        """Delete the member's own ``comment`` (False when it is not theirs); the
        page ``after`` asks for, as it stands after."""
        response = await self.social.DeleteComment(
            social_pb2.DeleteCommentRequest(
                community_id=thread.context.community_id,
                comment_id=comment,
                member_id=member_id,
                thread=thread.context,
                page_after=after,
            )
        )
        return bool(response.deleted), answered_page(response)

    async def moderate_comment(self, thread: Thread, comment: int, action: HiddenButton) -> bool:
        """An admin's decision on a hidden (or rule-flagged) comment; False when
        it was decided already."""
        response = await self.social.ModerateComment(
            social_pb2.ModerateCommentRequest(
                comment_id=comment,
                action=HIDDEN_DECISIONS[action],
                thread=thread.context,
                flagged=action in FLAG_BUTTONS,
            )
        )
        return bool(response.done)

    # -- moderation -----------------------------------------------------------

    async def moderate(
        self,
        community: CommunityEntry,
        confession_id: int,
        action: CardButton,
        *,
        moderator: str,
        reason: str = "",
        edit_card: bool = False,
    ) -> confessions_pb2.ModerateConfessionResponse:
        """Ask for ``action`` on a confession: exactly one decision wins; the
        answer says which one stands (and who made it). ``edit_card``: the
        decision was taken away from its card, which the service edits too."""
        response: confessions_pb2.ModerateConfessionResponse = (
            await self.confessions.ModerateConfession(
                confessions_pb2.ModerateConfessionRequest(
                    community_id=community.id,
                    confession_id=confession_id,
                    action=DECISIONS[action],
                    reason=reason,
                    moderator=moderator,
                    edit_card=edit_card,
                )
            )
        )
        return response

    async def rules(self, community: CommunityEntry) -> confessions_pb2.CommunityRules:
        """The community's rules (reasons to reject with among them)."""
        rules: confessions_pb2.CommunityRules = await self.communities.GetCommunityRules(
            confessions_pb2.GetCommunityRulesRequest(community_id=community.id)
        )
        return rules

    async def pending(
        self, community: CommunityEntry, limit: int
    ) -> confessions_pb2.ListPendingResponse:
        """The oldest ``limit`` confessions waiting for review, and how many wait."""
        response: confessions_pb2.ListPendingResponse = await self.confessions.ListPending(
            confessions_pb2.ListPendingRequest(community_id=community.id, limit=limit)
        )
        return response

    # -- the admin chat's commands ---------------------------------------------

    async def author(self, community: CommunityEntry, number: int) -> int:
        """The internal id of confession ``number``'s author (0: they erased their data)."""
        found = await self.confessions.GetConfession(
            confessions_pb2.GetConfessionRequest(community_id=community.id, number=number)
        )
        return int(found.author_member_id)

    async def pseudonym_owner(self, community: CommunityEntry, pseudonym: str) -> int:
        """The internal id of the member writing under ``pseudonym`` (NOT_FOUND,
        or FAILED_PRECONDITION when it is ambiguous)."""
        resolved = await self.social.ResolvePseudonym(
            social_pb2.ResolvePseudonymRequest(community_id=community.id, pseudonym=pseudonym)
        )
        return int(resolved.member_id)

    async def ban(
        self,
        community: CommunityEntry,
        member_id: int,
        *,
        label: str,
        reason: str,
        until: datetime | None,
        shadow: bool = False,
    ) -> None:
        """Ban a member (until ``until``; None: for good) under ``label``; ``shadow``:
        their comments show to themselves only and nobody is told."""
        request = confessions_pb2.BanMemberRequest(
            community_id=community.id,
            member_id=member_id,
            reason=reason,
            label=label,
            shadow=shadow,
        )
        if until is not None:
            request.until.CopyFrom(timestamp(until))
        await self.members.BanMember(request)

    async def unban(self, community: CommunityEntry, *, ban_id: int = 0, label: str = "") -> bool:
        """Lift the ban with ``ban_id``, or the bans made under ``label``; False: none was."""
        response = await self.members.UnbanMember(
            confessions_pb2.UnbanMemberRequest(
                community_id=community.id, ban_id=ban_id, label=label
            )
        )
        return bool(response.unbanned)

    async def bans(self, community: CommunityEntry) -> list[confessions_pb2.Ban]:
        """The bans in force."""
        response = await self.members.ListBans(
            confessions_pb2.ListBansRequest(community_id=community.id)
        )
        return list(response.bans)

    async def set_rule(
        self, community: CommunityEntry, name: str, value: str
    ) -> confessions_pb2.CommunityRules:
        """Change one rule as an admin typed it (INVALID_ARGUMENT says what is wrong)."""
        rules: confessions_pb2.CommunityRules = await self.communities.SetCommunityRule(
            confessions_pb2.SetCommunityRuleRequest(
                community_id=community.id, name=name, value=value
            )
        )
        return rules

    # -- the member's own pages ----------------------------------------------------

    async def my_confessions(
        self, community: CommunityEntry, telegram_user_id: int, limit: int
    ) -> confessions_pb2.ListMyConfessionsResponse:
        """The member's latest ``limit`` confessions, and how many they sent."""
        response: confessions_pb2.ListMyConfessionsResponse = (
            await self.confessions.ListMyConfessions(
                confessions_pb2.ListMyConfessionsRequest(
                    actor=actor(community, telegram_user_id),
                    page=common_pb2.PageRequest(limit=limit),
                )
            )
        )
        return response

    async def profile(
        self, community: CommunityEntry, telegram_user_id: int
    ) -> confessions_pb2.Profile:
        """The member's own counters."""
        profile: confessions_pb2.Profile = await self.members.GetProfile(
            confessions_pb2.GetProfileRequest(actor=actor(community, telegram_user_id))
        )
        return profile
