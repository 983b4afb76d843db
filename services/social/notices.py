"""What follows a comment: the channel post's counter edit and the notices, in one
follow-up; and the admins' cards of comments and confessions (:func:`admin_card`).

The counter edit and each notice are paced (services/social/pacing.py): their
slots are taken in one statement. The notices go to members by internal id
(only the confessions service knows their chats), so they travel in one
``NotifyMembersRequest`` that also counts the writer's activity and carries the
counter edit: the confessions service queues it all in one ``Enqueue``. That
request is a row of the relay (services/social/follow_ups.py), sent on with
the follow-ups of other comments and reactions in one call.
"""

from __future__ import annotations

from typing import Any

import orjson

from services.social import domain
from services.social.follow_ups import FollowUps
from services.social.pacing import Slot
from services.social.repository import SocialRepository
from services.social.rows import CommentRow
from veil.core.outbox import OutgoingCall, Priority, channel_post_key
from veil.core.proto import timestamp
from veil.core.telemetry import inject_context
from veil.v1 import confessions_pb2
from veil.v1 import social_pb2 as pb


def counter_key(thread: pb.ThreadContext) -> str | None:
    """The pacing key of the thread's channel-post counter; None without a post."""
    if not thread.channel_message_id or not thread.bot_username:
        return None
    return f"counter:{thread.confession_id}"


def counter_call(thread: pb.ThreadContext, count: int, event: str, slot: Slot) -> OutgoingCall:
    """The edit of the channel post's "💬 Comments (n)" (see :func:`counter_key`)."""
    return OutgoingCall(
        community_id=thread.community_id,
        method="editMessageReplyMarkup",
        chat_id=thread.channel_chat_id,
        params={
            "message_id": thread.channel_message_id,
            "reply_markup": domain.comments_markup(
                thread.bot_username, thread.confession_number, count
            ),
        },
        idempotency_key=f"counter:{thread.confession_id}:{event}",
        # The newest count replaces an edit still waiting for its slot.
        collapse_key=channel_post_key(thread.community_id, thread.confession_id),
        priority=Priority.BACKGROUND,
        not_before=slot.at,
    )


def admin_card(
    thread: pb.ThreadContext, key: str, html: str, markup: dict[str, Any], **params: Any
) -> OutgoingCall:
    """A card in the community's admin chat (HTML, with its buttons): a hidden,
    flagged or reported one. ``key`` makes a retried call queue it once."""
    return OutgoingCall(
        community_id=thread.community_id,
        method="sendMessage",
        chat_id=thread.admin_chat_id,
        params={"text": html, "parse_mode": "HTML", **params, "reply_markup": markup},
        idempotency_key=key,
        priority=Priority.INTERACTIVE,
    )


def _recipients(
    thread: pb.ThreadContext, comment: CommentRow, parent_writer: int | None
) -> dict[int, bool]:
    """Member id → is it a reply to them: the confession's author and the parent's writer."""
    recipients: dict[int, bool] = {}
    if thread.author_member_id and thread.author_member_id != comment.member_id:
        recipients[thread.author_member_id] = False
    if comment.parent_id and parent_writer and parent_writer != comment.member_id:
        recipients[parent_writer] = True
    return recipients


def _notice_key(member_id: int, thread: pb.ThreadContext) -> str:
    return f"notify:{member_id}:{thread.confession_id}"


def _notice(
    thread: pb.ThreadContext, comment: CommentRow, member_id: int, reply: bool, slot: Slot
) -> confessions_pb2.MemberNotice:
    notice = confessions_pb2.MemberNotice(
        community_id=thread.community_id,
        member_id=member_id,
        method="sendMessage",
        params_json=orjson.dumps(
            {
                "text": domain.comment_notice(thread, slot.pending, reply=reply),
                "parse_mode": "HTML",
                "link_preview_options": {"is_disabled": True},
            }
        ).decode(),
        idempotency_key=f"notify:{member_id}:c{comment.id}",
        optional=True,
    )
    if slot.at is not None:
        notice.not_before.CopyFrom(timestamp(slot.at))
        # Notices batched into one slot replace each other; the last one
        # carries the count of all of them. The key names the slot: a notice
        # of an earlier slot (or the one sent at once) counts other comments
        # and must not be replaced while still queued.
        notice.collapse_key = f"{_notice_key(member_id, thread)}:{slot.at.timestamp():.6f}"
    return notice


async def follow_comment(
    repository: SocialRepository,
    follow_ups: FollowUps,
    *,
    thread: pb.ThreadContext,
    comment: CommentRow,
    parent_writer: int | None,
    count: int,
    notify_seconds: float,
    counter_seconds: float,
    activity: confessions_pb2.RecordMemberActivityRequest,
) -> None:
    """Queue a comment's counter edit and notices and count ``activity``: one
    statement here (the slots), one follow-up row for the relay.

    A redelivered comment repeats them with the same keys: the notifier keeps
    one of each, and nothing is lost if the first try died before this.
    """
    recipients = _recipients(thread, comment, parent_writer)
    intervals = {_notice_key(member_id, thread): notify_seconds for member_id in recipients}
    counter = counter_key(thread)
    if counter is not None:
        intervals[counter] = counter_seconds
    slots = await repository.pace_many(intervals)
    calls = []
    if counter is not None:
        edit = counter_call(thread, count, f"c{comment.id}", slots[counter])
        calls.append(edit.to_proto(inject_context()))
    notices = [
        _notice(thread, comment, member_id, reply, slots[_notice_key(member_id, thread)])
        for member_id, reply in recipients.items()
    ]
    await follow_ups.send(
        activity.event_key,
        confessions_pb2.NotifyMembersRequest(notices=notices, activity=activity, calls=calls),
    )
