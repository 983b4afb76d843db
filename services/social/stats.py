"""The social service's reads for the moderation Mini App and ``/stats``.

Figures (which confessions were most commented, how many members commented,
never who) and comments for admins (hidden ones, or one pseudonym's), shown by
pseudonym only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import grpc
from sqlalchemy import func, select

from services.social import reporting
from services.social.config import SocialSettings
from services.social.follow_ups import FollowUps
from services.social.models import comments
from services.social.repository import SocialRepository
from services.social.servicer import SocialServicer
from veil.core.confessions_stubs import ConfessionsStubs
from veil.core.db import Database
from veil.core.errors import InvalidInputError
from veil.core.outbox import Outbox
from veil.core.proto import timestamp
from veil.v1 import social_pb2 as pb

DEFAULT_DAYS = 14
MAX_DAYS = 90
DEFAULT_LIMIT = 5
MAX_LIMIT = 20
DEFAULT_COMMENTS = 50
MAX_COMMENTS = 200


class ThreadFigures:
    """The SQL behind GetThreadStats (read on the replica)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def __call__(
        self, community_id: int, days: int, limit: int
    ) -> tuple[list[tuple[int, int]], int]:
        """([(confession id, visible comments)], members who commented) since ``days`` ago."""
        since = datetime.now(UTC) - timedelta(days=days)
        recent = (comments.c.community_id == community_id, comments.c.created_at >= since)
        count = func.count().label("n")
        async with self._db.read() as conn:
            top = (
                await conn.execute(
                    select(comments.c.confession_id, count)
                    .where(*recent, comments.c.status == "visible")
                    .group_by(comments.c.confession_id)
                    .order_by(count.desc(), comments.c.confession_id)
                    .limit(limit)
                )
            ).all()
            members = (
                await conn.execute(
                    select(func.count(func.distinct(comments.c.member_id))).where(*recent)
                )
            ).scalar_one()
        return [(int(c), int(n)) for c, n in top], int(members)


class AdminComments:
    """The SQL behind ListAdminComments (on the primary: a restored comment leaves at once)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def __call__(
        self, community_id: int, *, hidden_only: bool, pseudonym: str, limit: int
    ) -> list[pb.AdminComment]:
        """Newest first: the hidden comments, or those under ``pseudonym``."""
        statement = select(
            comments.c.id,
            comments.c.confession_id,
            comments.c.pseudonym,
            comments.c.text,
            comments.c.status,
            comments.c.reports,
            comments.c.report_weight,
            comments.c.created_at,
            comments.c.flagged,
        ).where(comments.c.community_id == community_id)
        if hidden_only:
            statement = statement.where(comments.c.status == "hidden")
        else:
            statement = statement.where(func.lower(comments.c.pseudonym) == pseudonym.lower())
        statement = statement.order_by(comments.c.id.desc()).limit(limit)
        async with self._db.read_own() as conn:
            rows = (await conn.execute(statement)).mappings().all()
            # Why they were reported (counts per reason, never who): one statement.
            reasons = await reporting.reasons_by_comment(conn, [row["id"] for row in rows])
        return [
            pb.AdminComment(
                id=row["id"],
                confession_id=row["confession_id"],
                pseudonym=row["pseudonym"],
                text=row["text"],
                status=row["status"],
                reports=row["reports"],
                created_at=timestamp(row["created_at"]),
                report_weight=row["report_weight"],
                reasons=reasons.get(row["id"], []),
                # As its card says it (never who wrote it).
                flagged=row["flagged"] or "",
            )
            for row in rows
        ]


class StatsServicer(SocialServicer):
    """The social service with the Mini App's thread figures."""

    def __init__(
        self,
        repository: SocialRepository,
        figures: ThreadFigures,
        admin_comments: AdminComments,
        settings: SocialSettings,
        *,
        outbox: Outbox,
        upstream: ConfessionsStubs,
        follow_ups: FollowUps,
    ) -> None:
        super().__init__(
            repository, settings, outbox=outbox, upstream=upstream, follow_ups=follow_ups
        )
        self._figures = figures
        self._admin_comments = admin_comments

    async def ListAdminComments(
        self, request: pb.ListAdminCommentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAdminCommentsResponse:
        """Hidden comments, or one pseudonym's, newest first."""
        pseudonym = request.pseudonym.strip()
        if request.hidden_only == bool(pseudonym):
            raise InvalidInputError("ask for hidden comments or for a pseudonym, not both")
        if len(pseudonym) > 64 or not 0 <= request.limit <= MAX_COMMENTS:
            raise InvalidInputError(f"a pseudonym of up to 64 characters, limit 0..{MAX_COMMENTS}")
        found = await self._admin_comments(
            request.community_id,
            hidden_only=request.hidden_only,
            pseudonym=pseudonym,
            limit=request.limit or DEFAULT_COMMENTS,
        )
        return pb.ListAdminCommentsResponse(comments=found)

    async def GetThreadStats(
        self, request: pb.GetThreadStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ThreadStats:
        """The most commented confessions and how many members commented."""
        if not 0 <= request.days <= MAX_DAYS or not 0 <= request.limit <= MAX_LIMIT:
            raise InvalidInputError(f"days must be 0..{MAX_DAYS} and limit 0..{MAX_LIMIT}")
        top, members = await self._figures(
            request.community_id, request.days or DEFAULT_DAYS, request.limit or DEFAULT_LIMIT
        )
        return pb.ThreadStats(
            most_commented=[pb.CommentedConfession(confession_id=c, comments=n) for c, n in top],
            commenting_members=members,
        )
