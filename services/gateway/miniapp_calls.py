"""The gateway's typed calls for the moderation Mini App: queue, rules form, figures, search.

A mixin of :class:`services.gateway.clients.ServiceClients` (kept apart so that
module stays readable): the Mini App's handlers call these, never the stubs.
"""

from __future__ import annotations

from veil.v1 import (
    confessions_pb2,
    confessions_pb2_grpc,
    social_pb2,
    social_pb2_grpc,
)


class MiniAppCalls:
    """The look-ups and writes behind the Mini App's pages."""

    communities: confessions_pb2_grpc.CommunitiesServiceStub
    confessions: confessions_pb2_grpc.ConfessionsServiceStub
    social: social_pb2_grpc.SocialServiceStub

    async def set_rules(
        self, community_id: int, settings: list[confessions_pb2.RuleSetting]
    ) -> confessions_pb2.CommunityRules:
        """Store the rules form (every field checked by the service: all or none)."""
        stored: confessions_pb2.CommunityRules = await self.communities.SetCommunityRules(
            confessions_pb2.SetCommunityRulesRequest(community_id=community_id, settings=settings)
        )
        return stored

    async def confession_numbers(self, community_id: int, ids: list[int]) -> dict[int, int]:
        """Confession id → its number, for the ids that exist."""
        found: confessions_pb2.GetConfessionNumbersResponse = (
            await self.confessions.GetConfessionNumbers(
                confessions_pb2.GetConfessionNumbersRequest(
                    community_id=community_id, confession_ids=ids
                )
            )
        )
        return dict(found.numbers)

    async def confession_by_number(
        self, community_id: int, number: int
    ) -> confessions_pb2.Confession:
        """Confession ``number`` in any status (NOT_FOUND raises, as the stub does)."""
        found: confessions_pb2.GetConfessionResponse = await self.confessions.GetConfession(
            confessions_pb2.GetConfessionRequest(community_id=community_id, number=number)
        )
        return found.confession

    async def admin_comments(
        self, community_id: int, *, hidden_only: bool = False, pseudonym: str = ""
    ) -> social_pb2.ListAdminCommentsResponse:
        """Comments as admins see them: the hidden ones, or those under a pseudonym."""
        found: social_pb2.ListAdminCommentsResponse = await self.social.ListAdminComments(
            social_pb2.ListAdminCommentsRequest(
                community_id=community_id, hidden_only=hidden_only, pseudonym=pseudonym
            )
        )
        return found

    async def thread_stats(self, community_id: int, days: int, top: int) -> social_pb2.ThreadStats:
        """Comment figures of the last ``days`` and the ``top`` most commented confessions."""
        stats: social_pb2.ThreadStats = await self.social.GetThreadStats(
            social_pb2.GetThreadStatsRequest(community_id=community_id, days=days, limit=top)
        )
        return stats

    async def community_stats(
        self, community_id: int, days: int, number_of: list[int]
    ) -> confessions_pb2.CommunityStats:
        """Confession figures of the last ``days``, and the numbers of ``number_of``'s ids."""
        stats: confessions_pb2.CommunityStats = await self.confessions.GetCommunityStats(
            confessions_pb2.GetCommunityStatsRequest(
                community_id=community_id, days=days, number_of=number_of
            )
        )
        return stats
