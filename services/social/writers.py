"""GetCommentWriter, on top of the social servicer: whom an admin warns from a
hidden comment's card (an internal member id and the pseudonym admins saw)."""

from __future__ import annotations

import grpc

from services.social.stats import StatsServicer
from veil.core.errors import NotFoundError
from veil.v1 import social_pb2 as pb


class WritersServicer(StatsServicer):
    """The social service with GetCommentWriter."""

    async def GetCommentWriter(
        self, request: pb.GetCommentWriterRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetCommentWriterResponse:
        """The comment's writer (0 once they erased themselves: nobody to warn)."""
        row = await self._repository.get_comment(request.community_id, request.comment_id)
        if row is None or not row.member_id:
            raise NotFoundError(f"no comment {request.comment_id} with a writer here")
        return pb.GetCommentWriterResponse(member_id=row.member_id, pseudonym=row.pseudonym)
