"""No RPC returns a Telegram id: every 64-bit integer a response can carry is reviewed.

A Telegram user id (at most 52 bits) fits only a 64-bit field. This walks every
RPC of every Veil service, through every message its response holds, and
lists the 64-bit integer fields found; each must be in ALLOWED with the reason
it cannot be a member's Telegram id. A new one fails here until someone has
looked at it.
"""

from __future__ import annotations

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from veil.v1 import confessions_pb2, notifier_pb2, safety_pb2, social_pb2

_WIDE = {
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_FIXED64,
    FieldDescriptor.TYPE_SFIXED64,
}

_INTERNAL_ID = "an internal id of Veil's own database"
_COUNT = "a count"
_COMMUNITY_CHAT = "the community's own bot, channel or admin chat (set by the platform engineer)"
ALLOWED = {
    "veil.v1.Community.id": _INTERNAL_ID,
    "veil.v1.Community.bot_id": _COMMUNITY_CHAT,
    "veil.v1.Community.channel_chat_id": _COMMUNITY_CHAT,
    "veil.v1.Community.admin_chat_id": _COMMUNITY_CHAT,
    "veil.v1.CommunityLimits.community_id": _INTERNAL_ID,
    "veil.v1.CommunityRules.community_id": _INTERNAL_ID,
    "veil.v1.Member.id": _INTERNAL_ID,
    "veil.v1.Ban.id": _INTERNAL_ID,
    "veil.v1.Member.community_id": _INTERNAL_ID,
    "veil.v1.EraseMemberResponse.member_id": _INTERNAL_ID,
    "veil.v1.ResolvePseudonymResponse.member_id": _INTERNAL_ID,
    "veil.v1.GetCommentWriterResponse.member_id": _INTERNAL_ID,
    "veil.v1.Warn.id": _INTERNAL_ID,
    "veil.v1.SafetyRules.community_id": _INTERNAL_ID,
    "veil.v1.GetConfessionResponse.author_member_id": _INTERNAL_ID,
    "veil.v1.GetConfessionResponse.channel_message_id": "a message id in the channel",
    "veil.v1.Confession.id": _INTERNAL_ID,
    "veil.v1.Confession.community_id": _INTERNAL_ID,
    "veil.v1.Confession.number": "the public #N",
    "veil.v1.Comment.id": _INTERNAL_ID,
    "veil.v1.Comment.confession_id": _INTERNAL_ID,
    "veil.v1.Comment.parent_id": _INTERNAL_ID,
    "veil.v1.EnqueueResponse.ids": _INTERNAL_ID,
    "veil.v1.QueueStat.community_id": _INTERNAL_ID,
    "veil.v1.StatusCount.community_id": _INTERNAL_ID,
    "veil.v1.DeadLetterStat.community_id": _INTERNAL_ID,
    "veil.v1.AddCommentResponse.thread_count": _COUNT,
    "veil.v1.ListCommentsResponse.total": _COUNT,
    "veil.v1.ListMyConfessionsResponse.total": _COUNT,
    "veil.v1.Profile.comments_written": _COUNT,
    "veil.v1.Profile.confessions_approved": _COUNT,
    "veil.v1.Profile.confessions_sent": _COUNT,
    "veil.v1.Profile.impact_points": _COUNT,
    "veil.v1.Profile.reactions_received": _COUNT,
    "veil.v1.QueueStat.depth": _COUNT,
    "veil.v1.StatusCount.count": _COUNT,
    "veil.v1.DeadLetterStat.count": _COUNT,
    # Moderation Mini App (issue 17)
    "veil.v1.ListPendingResponse.total": _COUNT,
    "veil.v1.DayCount.confessions": _COUNT,
    "veil.v1.CommunityStats.approved": _COUNT,
    "veil.v1.CommunityStats.rejected": _COUNT,
    "veil.v1.CommunityStats.pending": _COUNT,
    "veil.v1.CommunityStats.confessing_members": _COUNT,
    "veil.v1.CommunityStats.NumbersEntry.key": _INTERNAL_ID + " (a confession's)",
    "veil.v1.CommunityStats.NumbersEntry.value": "the public #N",
    "veil.v1.CommentedConfession.confession_id": _INTERNAL_ID,
    "veil.v1.CommentedConfession.comments": _COUNT,
    "veil.v1.ThreadStats.commenting_members": _COUNT,
    "veil.v1.GetConfessionNumbersResponse.NumbersEntry.key": _INTERNAL_ID + " (a confession's)",
    "veil.v1.GetConfessionNumbersResponse.NumbersEntry.value": "the public #N",
    "veil.v1.AdminComment.id": _INTERNAL_ID,
    "veil.v1.AdminComment.confession_id": _INTERNAL_ID,
    # Trust and safety (issue 16): the taken-down confession, to settle its reports.
    "veil.v1.TakeDownConfessionResponse.confession_id": _INTERNAL_ID,
}


def _wide_fields(message: Descriptor, seen: set[str]) -> set[str]:
    """64-bit integer fields of ``message`` and of every message it holds."""
    if message.full_name in seen or message.full_name.startswith("google.protobuf."):
        return set()
    seen.add(message.full_name)
    found: set[str] = set()
    for field in message.fields:
        if field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type is not None:
            found |= _wide_fields(field.message_type, seen)
        elif field.type in _WIDE:
            found.add(field.full_name)
    return found


def test_no_response_field_can_carry_a_telegram_id() -> None:
    found: dict[str, set[str]] = {}
    for module in (confessions_pb2, social_pb2, notifier_pb2, safety_pb2):
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                for name in _wide_fields(method.output_type, set()):
                    found.setdefault(name, set()).add(method.full_name)
    assert found, "no service descriptors were walked"
    unreviewed = {name: sorted(rpcs) for name, rpcs in found.items() if name not in ALLOWED}
    assert not unreviewed, f"64-bit fields in responses that may carry a Telegram id: {unreviewed}"
