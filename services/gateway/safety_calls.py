"""The gateway's typed calls for warns, shadow bans and conversations with the admins.

A mixin of :class:`services.gateway.clients.ServiceClients` (kept apart so
that module stays readable): handlers call these, never the stubs.
"""

from __future__ import annotations

import grpc

from services.gateway.registry import CommunityEntry
from services.gateway.service_types import actor, not_found
from veil.contracts.callbacks import SafetyTarget
from veil.v1 import (
    confessions_pb2,
    confessions_pb2_grpc,
    safety_pb2,
    safety_pb2_grpc,
    social_pb2,
    social_pb2_grpc,
)

# A warn keeps this much of the reason typed after /warn.
WARN_REASON_LENGTH = 200


class SafetyCalls:
    """SafetyService calls, and the look-ups behind the cards' safety buttons."""

    safety: safety_pb2_grpc.SafetyServiceStub
    confessions: confessions_pb2_grpc.ConfessionsServiceStub
    social: social_pb2_grpc.SocialServiceStub

    async def warn(
        self, community: CommunityEntry, member_id: int, *, label: str, reason: str, key: str
    ) -> bool:
        """Warn a member under ``label``; ``key`` makes a repeat warn nobody twice.

        True when this call made the warn (False: the key's warn exists).
        """
        response = await self.safety.WarnMember(
            safety_pb2.WarnMemberRequest(
                community_id=community.id,
                member_id=member_id,
                label=label,
                reason=reason[:WARN_REASON_LENGTH],
                idempotency_key=key,
            )
        )
        return bool(response.created)

    async def warns(self, community: CommunityEntry) -> list[safety_pb2.Warn]:
        """The warns in force, each its own entry."""
        response = await self.safety.ListWarns(
            safety_pb2.ListWarnsRequest(community_id=community.id)
        )
        return list(response.warns)

    async def unwarn(self, community: CommunityEntry, warn_id: int) -> bool:
        """Remove warn ``warn_id``; False when there was none."""
        response = await self.safety.RemoveWarn(
            safety_pb2.RemoveWarnRequest(community_id=community.id, warn_id=warn_id)
        )
        return bool(response.removed)

    async def safety_rules(self, community: CommunityEntry) -> safety_pb2.SafetyRules:
        """The community's warn rules."""
        rules: safety_pb2.SafetyRules = await self.safety.GetSafetyRules(
            safety_pb2.GetSafetyRulesRequest(community_id=community.id)
        )
        return rules

    async def set_safety_rule(
        self, community: CommunityEntry, name: str, value: str
    ) -> safety_pb2.SafetyRules:
        """Change one warn rule as typed (INVALID_ARGUMENT says what is wrong)."""
        rules: safety_pb2.SafetyRules = await self.safety.SetSafetyRule(
            safety_pb2.SetSafetyRuleRequest(community_id=community.id, name=name, value=value)
        )
        return rules

    async def card_writer(
        self, community: CommunityEntry, kind: SafetyTarget, target: int
    ) -> tuple[int, str] | None:
        """(member id, label) behind a card: a confession's author or a hidden
        comment's writer; None when they erased their data."""
        try:
            if kind == SafetyTarget.CONFESSION:
                found = await self.confessions.GetConfession(
                    confessions_pb2.GetConfessionRequest(
                        community_id=community.id, confession_id=target
                    )
                )
                if not found.author_member_id:
                    return None
                return int(found.author_member_id), f"confession #{found.confession.number}"
            writer = await self.social.GetCommentWriter(
                social_pb2.GetCommentWriterRequest(community_id=community.id, comment_id=target)
            )
            return int(writer.member_id), writer.pseudonym
        except grpc.aio.AioRpcError as error:
            if not_found(error):
                return None
            raise

    # -- conversations with the admins ----------------------------------------------

    async def write_to_admins(
        self, community: CommunityEntry, telegram_user_id: int, text: str, key: str
    ) -> None:
        """Send a member's message to the admin chat (FAILED_PRECONDITION: blocked or
        over the limit; INVALID_ARGUMENT: the text; both say why)."""
        await self.safety.WriteToAdmins(
            safety_pb2.WriteToAdminsRequest(
                actor=actor(community, telegram_user_id), text=text, idempotency_key=key
            )
        )

    async def answer_conversation(
        self, community: CommunityEntry, conversation: int, text: str, key: str
    ) -> bool:
        """An admin's answer to conversation N; False when it is closed."""
        response = await self.safety.AnswerConversation(
            safety_pb2.AnswerConversationRequest(
                community_id=community.id,
                conversation=conversation,
                text=text,
                idempotency_key=key,
            )
        )
        return bool(response.delivered)

    async def close_own_conversation(
        self, community: CommunityEntry, telegram_user_id: int
    ) -> bool:
        """The member closes their open conversation; False when none was open."""
        response = await self.safety.CloseConversation(
            safety_pb2.CloseConversationRequest(actor=actor(community, telegram_user_id))
        )
        return bool(response.closed)

    async def close_conversation(self, community: CommunityEntry, conversation: int) -> bool:
        """Admins close conversation N; False when it was closed already."""
        response = await self.safety.CloseConversation(
            safety_pb2.CloseConversationRequest(
                community_id=community.id, conversation=conversation
            )
        )
        return bool(response.closed)

    async def block_conversation(
        self, community: CommunityEntry, conversation: int, *, unblock: bool = False
    ) -> bool:
        """Block (or unblock) conversation N's member from writing; False: nothing changed."""
        response = await self.safety.BlockConversation(
            safety_pb2.BlockConversationRequest(
                community_id=community.id, conversation=conversation, unblock=unblock
            )
        )
        return bool(response.done)
