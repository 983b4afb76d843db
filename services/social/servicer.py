"""gRPC handlers of SocialService."""

from __future__ import annotations

import grpc

from services.social.config import SocialSettings
from services.social.pseudonyms import pseudonym
from services.social.repository import CommentRow, SocialRepository
from veil.core.errors import InvalidInputError
from veil.core.grpc_errors import domain_errors
from veil.core.proto import page_bounds, timestamp
from veil.v1 import social_pb2 as pb
from veil.v1 import social_pb2_grpc as pb_grpc


def _comment(row: CommentRow) -> pb.Comment:
    return pb.Comment(
        id=row.id,
        confession_id=row.confession_id,
        parent_id=row.parent_id or 0,
        pseudonym=row.pseudonym,
        text=row.text,
        likes=row.likes,
        dislikes=row.dislikes,
        created_at=timestamp(row.created_at),
    )


class SocialServicer(pb_grpc.SocialServiceServicer):
    """Thin handlers over :class:`SocialRepository`."""

    def __init__(self, repository: SocialRepository, settings: SocialSettings) -> None:
        self._repository = repository
        self._settings = settings
        self._key = settings.pseudonym_key.get_secret_value().encode()

    @domain_errors
    async def AddComment(
        self, request: pb.AddCommentRequest, context: grpc.aio.ServicerContext
    ) -> pb.AddCommentResponse:
        """Store a comment under the writer's pseudonym for this thread."""
        text = request.text.strip()
        if not 1 <= len(text) <= self._settings.comment_max_length:
            raise InvalidInputError(
                f"comment must be 1..{self._settings.comment_max_length} characters"
            )
        if not request.idempotency_key:
            raise InvalidInputError("idempotency_key is required")
        row, created = await self._repository.add_comment(
            community_id=request.community_id,
            confession_id=request.confession_id,
            parent_id=request.parent_id or None,
            member_id=request.member_id,
            pseudonym=pseudonym(self._key, request.confession_id, request.member_id),
            text=text,
            idempotency_key=request.idempotency_key,
        )
        return pb.AddCommentResponse(comment=_comment(row), created=created)

    @domain_errors
    async def ListComments(
        self, request: pb.ListCommentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListCommentsResponse:
        """A page of a thread, oldest first."""
        limit, offset = page_bounds(request.limit, request.offset, default=5)
        rows, total = await self._repository.list_comments(
            request.community_id, request.confession_id, limit, offset
        )
        return pb.ListCommentsResponse(comments=[_comment(r) for r in rows], total=total)

    # Declared for /deleteme (issue 6); implemented with the social work (issue 7).
    async def EraseMember(
        self, request: pb.EraseSocialMemberRequest, context: grpc.aio.ServicerContext
    ) -> pb.EraseSocialMemberResponse:
        """Not implemented yet."""
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "EraseMember is not implemented yet")
        raise AssertionError("abort raises")
