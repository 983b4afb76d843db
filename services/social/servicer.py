"""gRPC handlers of SocialService: validate, call the repository, queue what follows."""

from __future__ import annotations

import grpc

from services.social import comment_rules, commenting, notices, pages, reporting, safety
from services.social.config import SocialSettings
from services.social.erasure import erase_member, follow_up
from services.social.follow_ups import FollowUps
from services.social.open_threads import on_open_thread
from services.social.pseudonyms import pseudonym
from services.social.repository import SocialRepository
from services.social.rows import (
    DELETED,
    HIDDEN,
    LEGACY_SUBJECT,
    SHADOW,
    VISIBLE,
    subjects_of,
)
from veil.contracts.lengths import COMMENTS_PAGE_SIZE
from veil.core.confessions_stubs import ConfessionsStubs
from veil.core.errors import InvalidInputError, NotFoundError, RefusedError
from veil.core.outbox import Outbox
from veil.core.proto import page_bounds
from veil.v1 import confessions_pb2
from veil.v1 import social_pb2 as pb
from veil.v1 import social_pb2_grpc as pb_grpc

AUTHOR = "Author"


def _subject(subject: str, member_id: int) -> str:
    """The caller's protected subject; a caller that has none is known by member id."""
    return subject or f"{LEGACY_SUBJECT}{member_id}"


def _thread(thread: pb.ThreadContext) -> pb.ThreadContext:
    if not thread.community_id or not thread.confession_id or not thread.confession_number:
        raise InvalidInputError("thread (community, confession id and number) is required")
    return thread


class SocialServicer(pb_grpc.SocialServiceServicer):
    """Thin handlers over :class:`SocialRepository`; side effects go through the outbox."""

    def __init__(
        self,
        repository: SocialRepository,
        settings: SocialSettings,
        *,
        outbox: Outbox,
        upstream: ConfessionsStubs,
        follow_ups: FollowUps,
    ) -> None:
        self._repository = repository
        self._settings = settings
        self._key = settings.pseudonym_key.get_secret_value().encode()
        self._outbox = outbox
        self._upstream = upstream
        self._follow_ups = follow_ups

    async def AddComment(
        self, request: pb.AddCommentRequest, context: grpc.aio.ServicerContext
    ) -> pb.AddCommentResponse:
        """Store a comment under the writer's pseudonym; queue counter edit and notices."""
        thread = _thread(request.thread)
        # The community's rules, in-process (length, word filter, personal information).
        checked = comment_rules.check(
            request.text, request.entities, request.rules, self._settings.comment_max_length
        )
        if not request.idempotency_key:
            raise InvalidInputError("idempotency_key is required")
        added = await self._store_comment(request, thread, checked)
        row, count = added.row, added.visible
        response = pb.AddCommentResponse(
            comment=pages.comment(row),
            created=added.created,
            thread_count=count,
            page=await pages.page_after(
                self._repository, request.page_after, thread, request.member_id, count
            ),
        )
        if row.status == SHADOW:
            # Nobody else learns of it: no counter edit, no notice, and no
            # flag card (only its writer sees it: there is nothing to act on).
            return response
        if checked.flagged:
            # A rule flagged it: the admins get a card (the same key on a redelivery).
            await safety.flag_card(self._outbox, thread, row, checked.flagged)
        # The counter edit, the notices and the writer's "comments written" in one call.
        await notices.follow_comment(
            self._repository,
            self._follow_ups,
            thread=thread,
            comment=row,
            parent_writer=added.parent_writer,
            count=count,
            notify_seconds=self._settings.notify_batch_seconds,
            counter_seconds=self._settings.counter_edit_seconds,
            activity=confessions_pb2.RecordMemberActivityRequest(
                community_id=thread.community_id,
                member_id=request.member_id,
                comments_written=1,
                event_key=f"comment:{row.id}",
            ),
        )
        return response

    async def _store_comment(
        self,
        request: pb.AddCommentRequest,
        thread: pb.ThreadContext,
        checked: comment_rules.CheckedComment,
    ) -> commenting.Added:
        """Store the checked comment under the writer's pseudonym (the author's own label)."""
        by_author = request.member_id == thread.author_member_id
        try:
            return await commenting.add_comment(
                self._repository.db,
                community_id=thread.community_id,
                confession_id=thread.confession_id,
                author_member_id=thread.author_member_id,
                parent_id=request.parent_id or None,
                member_id=request.member_id,
                pseudonym=AUTHOR
                if by_author
                else pseudonym(self._key, thread.confession_id, request.member_id),
                by_author=by_author,
                text_=checked.text,
                idempotency_key=request.idempotency_key,
                flagged=checked.flagged or None,
                shadow=request.shadow,
            )
        except LookupError as error:
            raise NotFoundError(str(error)) from error

    async def ListComments(
        self, request: pb.ListCommentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListCommentsResponse:
        """A page of a thread for one viewer, in the asked order."""
        limit, offset = page_bounds(request.limit, request.offset, default=COMMENTS_PAGE_SIZE)
        return await pages.page(
            self._repository,
            request.community_id,
            request.confession_id,
            request.viewer_member_id,
            request.sort,
            limit,
            offset,
            consistent=request.consistent,
        )

    async def React(
        self, request: pb.ReactRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReactResponse:
        """Set the member's reaction to +1, -1 or 0 (none) on a comment of an open thread."""
        if request.value not in (-1, 0, 1):
            raise InvalidInputError("a reaction is +1, -1 or 0")
        thread = _thread(request.thread)
        if thread.community_id != request.community_id:
            raise InvalidInputError("the thread is of another community")
        try:
            result = await on_open_thread(
                self._upstream.confessions,
                thread,
                lambda known_open: self._repository.react(
                    thread.community_id,
                    thread.confession_id,
                    request.comment_id,
                    request.member_id,
                    request.value,
                    _subject(request.subject, request.member_id),
                    known_open=known_open,
                ),
            )
        except LookupError as error:
            raise NotFoundError(str(error)) from error
        if result.delta and result.writer_member_id != request.member_id:
            await self._record_activity(
                confessions_pb2.RecordMemberActivityRequest(
                    community_id=request.community_id,
                    member_id=result.writer_member_id,
                    reactions_received=result.delta,
                    # The comment's n-th reaction change: counted once, whoever made it.
                    event_key=f"reaction:{request.comment_id}:{result.version}",
                )
            )
        return pb.ReactResponse(
            likes=result.likes,
            dislikes=result.dislikes,
            my_reaction=result.my_reaction,
            page=await pages.page_after(
                self._repository, request.page_after, thread, request.member_id
            ),
        )

    async def ReportComment(
        self, request: pb.ReportCommentRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReportCommentResponse:
        """Count a weighted report; at the threshold hide the comment and tell the admins."""
        thread = _thread(request.thread)
        subject = _subject(request.subject, request.member_id)
        result = await safety.report_comment(
            request,
            thread,
            subjects_of(subject, request.member_id),
            repository=self._repository,
            confessions=self._upstream.confessions,
            outbox=self._outbox,
            default_threshold=self._settings.report_threshold,
        )
        if result.hidden_now:
            await self._queue_counter(
                thread,
                await self._repository.visible_count(thread.community_id, thread.confession_id),
                f"h{request.comment_id}",
            )
        return pb.ReportCommentResponse(
            counted=result.counted,
            hidden=result.hidden_now,
            weight=result.weight,
            total=result.total,
            page=await pages.page_after(
                self._repository, request.page_after, thread, request.member_id
            ),
        )

    async def DeleteComment(
        self, request: pb.DeleteCommentRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteCommentResponse:
        """Delete one of the member's own comments."""
        thread = _thread(request.thread)
        row = await self._repository.set_status(
            thread.community_id,
            thread.confession_id,
            request.comment_id,
            to=DELETED,
            only_from=(VISIBLE, HIDDEN, SHADOW),
            member_id=request.member_id,
        )
        if row is not None:
            await self._queue_counter(
                thread,
                await self._repository.visible_count(thread.community_id, thread.confession_id),
                f"d{row.id}",
            )
        return pb.DeleteCommentResponse(
            deleted=row is not None,
            page=await pages.page_after(
                self._repository, request.page_after, thread, request.member_id
            ),
        )

    async def ModerateComment(
        self, request: pb.ModerateCommentRequest, context: grpc.aio.ServicerContext
    ) -> pb.ModerateCommentResponse:
        """Restore or delete a hidden comment; "delete and ban" also bans its writer."""
        thread = _thread(request.thread)
        if request.action == pb.COMMENT_MODERATION_RESTORE:
            target = VISIBLE
        elif request.action in (pb.COMMENT_MODERATION_DELETE, pb.COMMENT_MODERATION_DELETE_AND_BAN):
            target = DELETED
        else:
            raise InvalidInputError("action must be restore, delete or delete and ban")
        # Only a hidden comment moves: of two admins pressing, one wins (a flagged
        # one's card may act on a visible one). Its reports are settled with it.
        row = await reporting.moderate(
            self._repository.db,
            thread.community_id,
            thread.confession_id,
            request.comment_id,
            to=target,
            only_from=(HIDDEN, VISIBLE) if request.flagged else (HIDDEN,),
        )
        if row is None:
            return pb.ModerateCommentResponse(done=False)
        if request.action == pb.COMMENT_MODERATION_DELETE_AND_BAN:
            await self._upstream.members.BanMember(
                confessions_pb2.BanMemberRequest(
                    community_id=thread.community_id,
                    member_id=row.member_id,
                    reason=f"comment on confession #{thread.confession_number}",
                    # Admins know the writer by the thread's pseudonym only.
                    label=row.pseudonym,
                )
            )
        await self._queue_counter(
            thread,
            await self._repository.visible_count(thread.community_id, thread.confession_id),
            f"m{row.id}:{target}",
        )
        return pb.ModerateCommentResponse(done=True)

    async def EraseMember(
        self, request: pb.EraseSocialMemberRequest, context: grpc.aio.ServicerContext
    ) -> pb.EraseSocialMemberResponse:
        """/deleteme: the member's comments, reactions and reports here, then the member
        in the confessions service (which drops the id this service knows them by)."""
        erasure = await erase_member(
            self._repository.db,
            request.community_id,
            request.member_id,
            _subject(request.subject, request.member_id),
        )
        await follow_up(
            erasure, request.community_id, self._upstream, self._outbox, self._queue_counter
        )
        erased = await self._upstream.members.EraseMember(
            confessions_pb2.EraseMemberRequest(
                community_id=request.community_id, member_id=request.member_id
            )
        )
        return pb.EraseSocialMemberResponse(
            comments_erased=erasure.erased, confessions_erased=erased.confessions_erased
        )

    async def ResolvePseudonym(
        self, request: pb.ResolvePseudonymRequest, context: grpc.aio.ServicerContext
    ) -> pb.ResolvePseudonymResponse:
        """The member behind a thread pseudonym, for a ban by pseudonym."""
        found = await self._repository.members_named(request.community_id, request.pseudonym)
        if not found:
            raise NotFoundError(f"nobody commented as {request.pseudonym.strip()!r} here")
        if len(found) > 1:
            raise RefusedError(
                f"{request.pseudonym.strip()!r} names more than one member (in different "
                "threads); ban by confession number instead"
            )
        return pb.ResolvePseudonymResponse(member_id=found[0])

    async def _queue_counter(self, thread: pb.ThreadContext, count: int, event: str) -> None:
        """Edit the channel post's "💬 Comments (n)", at most once per post per interval."""
        key = notices.counter_key(thread)
        if key is None:
            return
        slot = await self._repository.pace(key, self._settings.counter_edit_seconds)
        await self._outbox.send([notices.counter_call(thread, count, event, slot)])

    async def _record_activity(self, request: confessions_pb2.RecordMemberActivityRequest) -> None:
        # Idempotent on the event key: a redelivered comment or press counts once.
        await self._follow_ups.send(
            request.event_key, confessions_pb2.NotifyMembersRequest(activity=request)
        )
