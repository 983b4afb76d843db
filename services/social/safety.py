"""Trust and safety use cases of the social service (issue 16): a weighted report
and the admins' cards it and a rule's flag send. The servicer stays thin: it
calls these."""

from __future__ import annotations

from services.social import comment_rules, domain, notices, reporting
from services.social.open_threads import on_open_thread
from services.social.repository import SocialRepository
from services.social.rows import CommentRow
from veil.core.errors import InvalidInputError, NotFoundError
from veil.core.outbox import Outbox
from veil.v1 import confessions_pb2_grpc
from veil.v1 import social_pb2 as pb


async def report_comment(
    request: pb.ReportCommentRequest,
    thread: pb.ThreadContext,
    subjects: list[str],
    *,
    repository: SocialRepository,
    confessions: confessions_pb2_grpc.ConfessionsServiceStub,
    outbox: Outbox,
    default_threshold: int,
) -> reporting.WeightedReport:
    """Count a weighted report; when it hides the comment, queue the admins' card."""
    reason = request.reason or "other"
    if reason not in reporting.REASONS:
        raise InvalidInputError(f"reason must be one of {', '.join(reporting.REASONS)}")
    threshold = reporting.threshold_of(request.rules, default_threshold)
    try:
        result = await on_open_thread(
            confessions,
            thread,
            lambda known_open: reporting.report(
                repository.db,
                community_id=thread.community_id,
                confession_id=thread.confession_id,
                comment_id=request.comment_id,
                member_id=request.member_id,
                subjects=subjects,
                reason=reason,
                reporter=request.reporter,
                threshold=threshold,
                known_open=known_open,
            ),
        )
    except LookupError as error:
        raise NotFoundError(str(error)) from error
    if result.hidden_now:
        comment = await repository.get_comment(thread.community_id, request.comment_id)
        assert comment is not None
        await _queue_hidden_card(outbox, thread, comment, result, threshold)
    return result


async def _queue_hidden_card(
    outbox: Outbox,
    thread: pb.ThreadContext,
    comment: CommentRow,
    result: reporting.WeightedReport,
    threshold: int,
) -> None:
    """Queue the admins' card of a comment the reports have just hidden."""
    html = domain.hidden_card(
        thread,
        comment.pseudonym,
        comment.text,
        result.reports,
        total=result.total,
        threshold=threshold,
        reasons=result.reasons,
    )
    markup = domain.hidden_card_markup(comment.id, thread.confession_number)
    await outbox.send([notices.admin_card(thread, f"hidden:{comment.id}", html, markup)])


async def flag_card(
    outbox: Outbox, thread: pb.ThreadContext, comment: CommentRow, flagged: str
) -> None:
    """The admins' card of a comment a rule flagged (a redelivered comment queues the
    same key, which the notifier keeps once)."""
    if not thread.admin_chat_id:
        return
    html = comment_rules.flagged_card(thread, comment.pseudonym, comment.text, flagged)
    markup = comment_rules.flagged_card_markup(comment.id, thread.confession_number)
    await outbox.send([notices.admin_card(thread, f"flagged:{comment.id}", html, markup)])
