"""What the gateway's calls take and give besides protobuf: threads, decisions, actors.

Pure values and checks; :mod:`services.gateway.clients` makes the calls.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import grpc

from services.gateway.registry import CommunityEntry
from veil.contracts.callbacks import CardButton, HiddenButton
from veil.contracts.lengths import COMMENTS_PAGE_SIZE
from veil.v1 import common_pb2, confessions_pb2, social_pb2

# The decisions a card button or the Mini App can ask for.
DECISIONS = {
    CardButton.APPROVE: confessions_pb2.MODERATION_ACTION_APPROVE,
    CardButton.REJECT: confessions_pb2.MODERATION_ACTION_REJECT,
    CardButton.BAN: confessions_pb2.MODERATION_ACTION_BAN,
}
# The decisions on a comment hidden by reports, or flagged by a rule (keeping
# a flagged comment asks the service nothing).
HIDDEN_DECISIONS = {
    HiddenButton.RESTORE: social_pb2.COMMENT_MODERATION_RESTORE,
    HiddenButton.DELETE: social_pb2.COMMENT_MODERATION_DELETE,
    HiddenButton.BAN: social_pb2.COMMENT_MODERATION_DELETE_AND_BAN,
    HiddenButton.FLAG_DELETE: social_pb2.COMMENT_MODERATION_DELETE,
    HiddenButton.FLAG_BAN: social_pb2.COMMENT_MODERATION_DELETE_AND_BAN,
}
# A thread is open while its confession is approved or published.
OPEN_STATUSES = frozenset(
    {confessions_pb2.CONFESSION_STATUS_APPROVED, confessions_pb2.CONFESSION_STATUS_PUBLISHED}
)


class ThreadNotFoundError(Exception):
    """The confession has no open thread (unknown, pending, rejected or deleted)."""


@dataclass(frozen=True)
class Thread:
    """An open thread: where it lives (for the social service) and its confession's text."""

    context: social_pb2.ThreadContext
    text: str


def actor(community: CommunityEntry, telegram_user_id: int) -> common_pb2.Actor:
    """The gRPC actor for a Telegram user in ``community``."""
    return common_pb2.Actor(community_id=community.id, telegram_user_id=telegram_user_id)


def open_thread(
    community: CommunityEntry, number: int, found: confessions_pb2.GetConfessionResponse
) -> Thread:
    """Where thread ``number`` lives; ThreadNotFoundError unless it is open."""
    if found.confession.status not in OPEN_STATUSES:
        raise ThreadNotFoundError
    context = social_pb2.ThreadContext(
        community_id=community.id,
        confession_id=found.confession.id,
        confession_number=number,
        author_member_id=found.author_member_id,
        channel_chat_id=community.channel_chat_id,
        channel_message_id=found.channel_message_id,
        admin_chat_id=community.admin_chat_id,
        bot_username=community.bot_username,
    )
    return Thread(context, found.confession.text)


def page_after(page: int, sort: int, *, last: bool = False) -> social_pb2.PageAfter:
    """Asks a write to answer with thread page ``page`` in order ``sort`` (or the
    last page) as its writer sees it after the write."""
    return social_pb2.PageAfter(
        limit=COMMENTS_PAGE_SIZE,
        offset=page * COMMENTS_PAGE_SIZE,
        sort=social_pb2.CommentSort.ValueType(sort),
        last=last,
    )


# The writes whose answer may bring the page their writer sees next.
PageAnswer = (
    social_pb2.AddCommentResponse
    | social_pb2.ReactResponse
    | social_pb2.ReportCommentResponse
    | social_pb2.DeleteCommentResponse
)


def answered_page(response: PageAnswer) -> social_pb2.ListCommentsResponse | None:
    """The page a write answered with (``page_after``); None when it brought none."""
    return response.page if response.HasField("page") else None


def reporter_standing(member: confessions_pb2.Member) -> common_pb2.ReporterStanding:
    """The part of a report's weight the confessions service knows: days since
    joining and approved confessions (RegisterMember's member)."""
    joined = member.joined_at.seconds if member.HasField("joined_at") else int(time.time())
    return common_pb2.ReporterStanding(
        days_member=max(0, int(time.time() - joined) // 86400),
        confessions_approved=int(member.confessions_approved),
    )


def thread_rules(member: confessions_pb2.RegisterMemberResponse) -> common_pb2.CommentRules:
    """The community's rules as the service (or their card) gave them with the
    thread; an answer asked without ``rules`` has none (ask ``member(number,
    rules=True)``): refusing here keeps a comment or report from being weighed
    against no rules at all."""
    if not member.HasField("comment_rules"):
        raise LookupError("the member's answer carries no comment rules: ask with rules=True")
    return member.comment_rules


def is_withdrawn(response: confessions_pb2.ModerateConfessionResponse) -> bool:
    """The author erased their data while the confession waited: nobody decided it."""
    return bool(
        not response.won and response.confession.status == confessions_pb2.CONFESSION_STATUS_DELETED
    )


def not_found(error: grpc.aio.AioRpcError) -> bool:
    """The service answered NOT_FOUND (anything else is re-raised by the caller)."""
    return bool(error.code() == grpc.StatusCode.NOT_FOUND)
