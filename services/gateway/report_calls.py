"""The gateway's report calls (issue 16): weighted reports of comments and
confessions, and taking a reported confession down.

A mixin of :class:`services.gateway.clients.ServiceClients`, which holds the
stubs; kept apart so that each module stays short.
"""

from __future__ import annotations

from services.gateway.registry import CommunityEntry
from services.gateway.service_types import (
    Thread,
    answered_page,
    reporter_standing,
    thread_rules,
)
from veil.contracts.callbacks import ReportReason
from veil.v1 import confessions_pb2, confessions_pb2_grpc, social_pb2, social_pb2_grpc


class ReportCalls:
    """Reports and take-downs, on the stubs of :class:`ServiceClients`."""

    # ServiceClients' fields (annotations only: the dataclass declares them).
    confessions: confessions_pb2_grpc.ConfessionsServiceStub
    social: social_pb2_grpc.SocialServiceStub

    async def report(
        self,
        thread: Thread,
        member: confessions_pb2.RegisterMemberResponse,
        comment: int,
        reason: ReportReason,
        after: social_pb2.PageAfter | None = None,
    ) -> tuple[bool, social_pb2.ListCommentsResponse | None]:
        """Report ``comment``, weighted by the member's standing against the
        community's threshold (False when this member had reported it already);
        the page ``after`` asks for, as it stands after the report."""
        response = await self.social.ReportComment(
            social_pb2.ReportCommentRequest(
                comment_id=comment,
                member_id=member.member.id,
                thread=thread.context,
                subject=member.member.subject,
                reason=reason,
                reporter=reporter_standing(member.member),
                rules=thread_rules(member),
                page_after=after,
            )
        )
        return bool(response.counted), answered_page(response)

    async def report_confession(
        self, thread: Thread, member: confessions_pb2.RegisterMemberResponse, reason: ReportReason
    ) -> bool:
        """Report the thread's confession (weighted as a comment's report); False
        when this member had reported it already."""
        response = await self.social.ReportConfession(
            social_pb2.ReportConfessionRequest(
                thread=thread.context,
                member_id=member.member.id,
                subject=member.member.subject,
                reason=reason,
                reporter=reporter_standing(member.member),
                rules=thread_rules(member),
            )
        )
        return bool(response.counted)

    async def take_down(self, community: CommunityEntry, number: int) -> int:
        """Take reported confession ``number`` and its channel post down; its
        internal id while it stands taken down (a repeated press queues the
        post's deletion again, once per key), 0 when it is no longer in the
        channel for another reason."""
        taken = await self.confessions.TakeDownConfession(
            confessions_pb2.TakeDownConfessionRequest(community_id=community.id, number=number)
        )
        return int(taken.confession_id) if taken.taken_down else 0

    async def settle_confession_reports(
        self, community: CommunityEntry, confession_id: int, *, upheld: bool
    ) -> None:
        """The admins' verdict on a reported confession counts in its reporters'
        record: taken down, upheld; kept, restored (social never says who)."""
        await self.social.SettleConfessionReports(
            social_pb2.SettleConfessionReportsRequest(
                community_id=community.id, confession_id=confession_id, upheld=upheld
            )
        )
