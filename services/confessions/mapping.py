"""Rows of the confessions schema as protobuf messages (shared by the servicers)."""

from __future__ import annotations

from services.confessions import domain
from services.confessions.rows import BanRow, CommunityRow, ConfessionRow
from veil.core.proto import timestamp
from veil.v1 import confessions_pb2 as pb

STATUS = {
    "pending": pb.CONFESSION_STATUS_PENDING,
    "approved": pb.CONFESSION_STATUS_APPROVED,
    "rejected": pb.CONFESSION_STATUS_REJECTED,
    "published": pb.CONFESSION_STATUS_PUBLISHED,
    "deleted": pb.CONFESSION_STATUS_DELETED,
}


def community(row: CommunityRow, *, include_secrets: bool) -> pb.Community:
    """A community; its bot token only with ``include_secrets`` (the gateway's listing)."""
    return pb.Community(
        id=row.id,
        bot_id=row.bot_id,
        bot_token=row.bot_token if include_secrets else "",
        bot_username=row.bot_username,
        channel_chat_id=row.channel_chat_id,
        admin_chat_id=row.admin_chat_id,
        title=row.title,
        created_at=timestamp(row.created_at),
    )


def confession(row: ConfessionRow) -> pb.Confession:
    """A confession as its author may see it."""
    message = pb.Confession(
        id=row.id,
        number=row.number,
        community_id=row.community_id,
        text=row.text,
        status=STATUS[row.status],
        created_at=timestamp(row.created_at),
    )
    if row.media is not None:
        message.media.CopyFrom(pb.Media(kind=row.media[0], file_id=row.media[1]))
    return message


def standing(
    ban: BanRow | None, *, notifications_enabled: bool = True, shadowed: bool = False
) -> pb.MemberStanding:
    """A member's standing: banned (until when), shadow-banned, their notification setting."""
    message = pb.MemberStanding(
        banned=ban is not None, notifications_enabled=notifications_enabled, shadowed=shadowed
    )
    if ban is not None and ban.until is not None:
        message.banned_until.CopyFrom(timestamp(ban.until))
    return message


def ban(row: BanRow) -> pb.Ban:
    """A ban as admins see it (id and label, never an identity)."""
    message = pb.Ban(
        id=row.id,
        label=row.label,
        reason=row.reason,
        created_at=timestamp(row.created_at),
        shadow=row.shadow,
    )
    if row.until is not None:
        message.until.CopyFrom(timestamp(row.until))
    return message


def rules(community_id: int, rules: domain.Rules) -> pb.CommunityRules:
    """A community's rules."""
    return pb.CommunityRules(
        community_id=community_id,
        cooldown_seconds=rules.cooldown_seconds,
        daily_cap=rules.daily_cap,
        max_length=rules.max_length,
        filter_words=list(rules.filter_words),
        filter_action=pb.WORD_FILTER_ACTION_REJECT
        if rules.filter_action == "reject"
        else pb.WORD_FILTER_ACTION_FLAG,
        reject_reasons=list(rules.reject_reasons),
        publish_interval_minutes=rules.publish_interval_minutes,
        **rules.safety.proto_fields(),
    )
