"""gRPC stubs of the running services, as tests call them directly."""

from __future__ import annotations

import grpc

from tests.support.threads import bot_api
from tests.support.world import World
from veil.v1 import (
    common_pb2,
    confessions_pb2,
    confessions_pb2_grpc,
    social_pb2,
    social_pb2_grpc,
)


class Services:
    """gRPC stubs of the running confessions and social services."""

    def __init__(self, channels: list[grpc.aio.Channel]) -> None:
        self.communities = confessions_pb2_grpc.CommunitiesServiceStub(channels[0])
        self.members = confessions_pb2_grpc.MembersServiceStub(channels[0])
        self.confessions = confessions_pb2_grpc.ConfessionsServiceStub(channels[0])
        self.social = social_pb2_grpc.SocialServiceStub(channels[1])

    async def member_id(self, community: World.Community, user_id: int) -> int:
        """The internal id of a Telegram user in the community (registered if new)."""
        registered = await self.members.RegisterMember(
            confessions_pb2.RegisterMemberRequest(
                actor=common_pb2.Actor(community_id=community.id, telegram_user_id=user_id)
            )
        )
        return int(registered.member.id)

    async def thread(self, community: World.Community, number: int) -> social_pb2.ThreadContext:
        """The thread context the gateway builds (from GetConfession and the registry)."""
        found = await self.confessions.GetConfession(
            confessions_pb2.GetConfessionRequest(community_id=community.id, number=number)
        )
        me = await bot_api(community, "getMe", {})
        return social_pb2.ThreadContext(
            community_id=community.id,
            confession_id=found.confession.id,
            confession_number=number,
            author_member_id=found.author_member_id,
            channel_chat_id=community.channel_id,
            channel_message_id=found.channel_message_id,
            admin_chat_id=community.admin_chat_id,
            bot_username=me["username"],
        )

    async def comment(
        self, thread: social_pb2.ThreadContext, member_id: int, text: str, parent_id: int = 0
    ) -> social_pb2.Comment:
        """A comment as the gateway stores it, without the member's three updates
        (members are rate limited in the suite)."""
        added: social_pb2.AddCommentResponse = await self.social.AddComment(
            social_pb2.AddCommentRequest(
                community_id=thread.community_id,
                confession_id=thread.confession_id,
                member_id=member_id,
                parent_id=parent_id,
                text=text,
                idempotency_key=f"test:{thread.confession_id}:{member_id}:{text}",
                thread=thread,
            )
        )
        comment: social_pb2.Comment = added.comment
        return comment
