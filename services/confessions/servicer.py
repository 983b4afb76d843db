"""gRPC handlers of ConfessionsService: parse, call the repository, answer."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import grpc

from services.confessions import decision as decision_sql
from services.confessions import domain, follow_ups, members, registration, submission
from services.confessions.config import ConfessionsSettings
from services.confessions.limits import SubmissionLimits
from services.confessions.protection import ProtectionRepository
from services.confessions.repository import (
    BanRow,
    CommunityRow,
    ConfessionRow,
    ConfessionsRepository,
    Erasure,
    Submission,
)
from veil.core import pii
from veil.core.durations import format_duration
from veil.core.errors import InvalidInputError, NotFoundError, RefusedError
from veil.core.grpc_errors import domain_errors
from veil.core.hashing import subject_token
from veil.core.links import deep_link, post_link
from veil.core.outbox import Outbox, OutgoingCall
from veil.core.proto import optional_time, page_bounds, timestamp
from veil.v1 import confessions_pb2 as pb
from veil.v1 import confessions_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

_STATUS = {
    "pending": pb.CONFESSION_STATUS_PENDING,
    "approved": pb.CONFESSION_STATUS_APPROVED,
    "rejected": pb.CONFESSION_STATUS_REJECTED,
    "published": pb.CONFESSION_STATUS_PUBLISHED,
    "deleted": pb.CONFESSION_STATUS_DELETED,
}


def _community(row: CommunityRow, *, include_secrets: bool) -> pb.Community:
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


def _confession(row: ConfessionRow) -> pb.Confession:
    message = pb.Confession(
        id=row.id,
        number=row.number,
        community_id=row.community_id,
        text=row.text,
        status=_STATUS[row.status],
        created_at=timestamp(row.created_at),
    )
    if row.media is not None:
        message.media.CopyFrom(pb.Media(kind=row.media[0], file_id=row.media[1]))
    return message


def _standing(ban: BanRow | None, *, notifications_enabled: bool = True) -> pb.MemberStanding:
    standing = pb.MemberStanding(
        banned=ban is not None, notifications_enabled=notifications_enabled
    )
    if ban is not None and ban.until is not None:
        standing.banned_until.CopyFrom(timestamp(ban.until))
    return standing


def _rules(community_id: int, rules: domain.Rules) -> pb.CommunityRules:
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


# action → (status it moves to, the decision as stored)
_TARGETS = {
    pb.MODERATION_ACTION_APPROVE: ("approved", "approve"),
    pb.MODERATION_ACTION_REJECT: ("rejected", "reject"),
    pb.MODERATION_ACTION_BAN: ("rejected", "ban"),
}
_DECISIONS = {stored: action for action, (_, stored) in _TARGETS.items()}


class ConfessionsServicer(pb_grpc.ConfessionsServiceServicer):
    """Thin handlers over :class:`ConfessionsRepository`."""

    def __init__(
        self,
        repository: ConfessionsRepository,
        settings: ConfessionsSettings,
        *,
        outbox: Outbox,
        limits: SubmissionLimits,
        protection: ProtectionRepository,
    ) -> None:
        self._repository = repository
        self._settings = settings
        self._outbox = outbox
        self._limits = limits
        self._protection = protection
        self._id_key = settings.id_hash_key.get_secret_value().encode()

    def subject(self, community_id: int, telegram_user_id: int) -> str:
        """The protected subject of a Telegram user in a community (see protection.py)."""
        return subject_token(self._id_key, community_id, telegram_user_id)

    @domain_errors
    async def UpsertCommunity(
        self, request: pb.UpsertCommunityRequest, context: grpc.aio.ServicerContext
    ) -> pb.Community:
        """Register or update a community."""
        row = await self._repository.upsert_community(
            bot_id=domain.parse_bot_id(request.bot_token),
            bot_token=request.bot_token,
            bot_username=request.bot_username.lstrip("@"),
            channel_chat_id=request.channel_chat_id,
            admin_chat_id=request.admin_chat_id,
            title=request.title or request.bot_username,
        )
        return _community(row, include_secrets=False)

    @domain_errors
    async def ListCommunities(
        self, request: pb.ListCommunitiesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListCommunitiesResponse:
        """Every community; tokens only when asked for."""
        rows = await self._repository.list_communities()
        return pb.ListCommunitiesResponse(
            communities=[_community(r, include_secrets=request.include_secrets) for r in rows]
        )

    @domain_errors
    async def RegisterMember(
        self, request: pb.RegisterMemberRequest, context: grpc.aio.ServicerContext
    ) -> pb.RegisterMemberResponse:
        """Find or create the member behind the actor."""
        actor = request.actor
        subject = self.subject(actor.community_id, actor.telegram_user_id)
        member, thread = await registration.register_member(
            self._repository.db,
            actor.community_id,
            actor.telegram_user_id,
            subject,
            request.thread_number,
        )
        if member.unreachable:
            # They wrote to the bot, so they unblocked it: the notifier delivers
            # to them again first, then the flag goes (a failure in between is
            # retried on their next update).
            await self._outbox.mark_reachable(actor.community_id, actor.telegram_user_id)
            await self._repository.mark_reachable(member.id)
        response = pb.RegisterMemberResponse(
            member=pb.Member(
                id=member.id,
                community_id=actor.community_id,
                subject=subject,
                joined_at=timestamp(member.joined_at) if member.joined_at else None,
                confessions_approved=member.confessions_approved,
            ),
            created=member.created,
            standing=_standing(member.ban, notifications_enabled=member.notifications_enabled),
        )
        if thread is not None:
            response.thread.CopyFrom(
                pb.GetConfessionResponse(
                    confession=_confession(thread.confession),
                    author_member_id=thread.author_member_id,
                    channel_message_id=thread.channel_message_id,
                )
            )
            response.comment_rules.CopyFrom(thread.comment_rules)
        return response

    @domain_errors
    async def SubmitConfession(
        self, request: pb.SubmitConfessionRequest, context: grpc.aio.ServicerContext
    ) -> pb.SubmitConfessionResponse:
        """Store a pending confession under the community's rules; queue the admins' card.

        Idempotent on the key: a retried submission returns the first one (and
        queues its card again, which the notifier keeps once), before any rule
        or limit is looked at.
        """
        actor = request.actor
        key = domain.clean_idempotency_key(request.idempotency_key)
        media = domain.clean_media(request.media.kind, request.media.file_id)
        # Limits count per subject: erasing oneself does not reset them.
        subject = self.subject(actor.community_id, actor.telegram_user_id)
        found = await submission.intake(
            self._repository.db, actor.community_id, actor.telegram_user_id, subject, key
        )
        stored = found.existing
        if stored is None:
            stored = await self._submit(actor.community_id, subject, found, request, key, media)
        if stored.confession.status == "pending":
            await self._outbox.send(
                [follow_ups.card_call(actor.community_id, found.admin_chat_id, stored)]
            )
        return pb.SubmitConfessionResponse(
            confession=_confession(stored.confession), created=stored.created
        )

    async def _submit(
        self,
        community_id: int,
        subject: str,
        found: submission.Intake,
        request: pb.SubmitConfessionRequest,
        key: str,
        media: tuple[str, str] | None,
    ) -> Submission:
        if found.banned:
            raise RefusedError(domain.banned_refusal(found.ban_until))
        rules = found.rules
        # Personal information first: a redaction is what the other checks see.
        guarded = pii.apply(
            request.text,
            ((e.type, e.offset, e.length) for e in request.entities),
            rules.safety.pii_action,
            "confession",
        )
        text = domain.check_text(
            guarded.text,
            min(rules.max_length, self._settings.confession_max_length),
            media=media is not None,
        )
        word = domain.filtered_word(text, rules.filter_words)
        if word is not None and rules.filter_action == "reject":
            raise InvalidInputError(
                f"Your confession contains “{word}”, which this community does not allow. "
                "Please rephrase it."
            )
        refusal = await self._limits.take(
            community_id,
            subject,
            cooldown_seconds=rules.cooldown_seconds,
            daily_cap=rules.daily_cap,
        )
        if refusal is not None:
            wait = format_duration(max(1, -(-refusal.wait_ms // 60_000)) * 60)
            if refusal.cap:
                raise RefusedError(
                    f"You have sent {rules.daily_cap} confessions today, the daily limit here. "
                    f"You can send the next one in about {wait}."
                )
            raise RefusedError(f"Please wait about {wait} before your next confession.")
        try:
            stored = await submission.store(
                self._repository.db,
                community_id,
                found.member_id,
                text,
                key,
                media=media,
                flagged_word=word,
                pii_found=guarded.flagged or None,
            )
        except BaseException:
            await self._limits.refund(community_id, subject)
            raise
        if not stored.created:
            # A concurrent retry of the same submission stored it first.
            await self._limits.refund(community_id, subject)
        return stored

    @domain_errors
    async def ListMyConfessions(
        self, request: pb.ListMyConfessionsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListMyConfessionsResponse:
        """The actor's confessions, newest first."""
        limit, offset = page_bounds(request.page.limit, request.page.offset)
        rows, total = await self._repository.list_member_confessions(
            request.actor.community_id, request.actor.telegram_user_id, limit, offset
        )
        return pb.ListMyConfessionsResponse(confessions=[_confession(r) for r in rows], total=total)

    @domain_errors
    async def GetConfession(
        self, request: pb.GetConfessionRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetConfessionResponse:
        """One confession by number, with its author's internal id (never a Telegram id)."""
        found = await self._repository.get_confession(
            request.community_id, request.number, request.confession_id
        )
        if found is None:
            raise NotFoundError(f"confession #{request.number} does not exist")
        row, author_member_id, channel_message_id = found
        return pb.GetConfessionResponse(
            confession=_confession(row),
            author_member_id=author_member_id,
            channel_message_id=channel_message_id,
        )

    @domain_errors
    async def NotifyMembers(
        self, request: pb.NotifyMembersRequest, context: grpc.aio.ServicerContext
    ) -> pb.NotifyMembersResponse:
        """Queue notices to members by internal id; skip the unreachable and opted out.

        With ``activity``, count it first (once per event key), as
        RecordMemberActivity does.
        """
        for notice in request.notices:
            members.check_notice(notice)
        if request.HasField("activity"):
            await self._record(request.activity)
        if not request.notices:
            return pb.NotifyMembersResponse(queued=0)
        recipients = await self._repository.recipients(
            [(n.community_id, n.member_id) for n in request.notices]
        )
        calls = []
        for notice in request.notices:
            recipient = recipients.get((notice.community_id, notice.member_id))
            # A member who erased their data is no longer there to tell.
            call = members.notice_call(notice, recipient) if recipient is not None else None
            if call is not None:
                calls.append(call)
        # The notices' own idempotency keys make a retried request queue nothing new.
        await self._outbox.send(calls)
        return pb.NotifyMembersResponse(queued=len(calls))

    @domain_errors
    async def BanMember(
        self, request: pb.BanMemberRequest, context: grpc.aio.ServicerContext
    ) -> pb.BanMemberResponse:
        """Ban a member of a community (optionally until a time) and tell them, once."""
        until = optional_time(request, "until")
        if until is not None and until <= datetime.now(UTC):
            raise InvalidInputError("a ban must end in the future")
        ban = await self._ban(
            request.community_id,
            request.member_id,
            until=until,
            reason=request.reason.strip()[:200],
            label=request.label.strip()[:64] or "a member",
        )
        return pb.BanMemberResponse(standing=_standing(ban))

    async def _ban(
        self, community_id: int, member_id: int, *, until: datetime | None, reason: str, label: str
    ) -> BanRow:
        ban, telegram_id = await self._protection.ban(
            community_id, member_id, until=until, reason=reason, label=label
        )
        community = await self._repository.get_community(community_id)
        await self._outbox.send(
            [
                OutgoingCall(
                    community_id=community_id,
                    method="sendMessage",
                    chat_id=telegram_id,
                    params={
                        "text": domain.banned_notice(community.title, ban.until),
                        "parse_mode": "HTML",
                    },
                    # One notice per ban: a retried call is the same ban.
                    idempotency_key=f"ban:{community_id}:{ban.id}",
                )
            ]
        )
        return ban

    @domain_errors
    async def RecordMemberActivity(
        self, request: pb.RecordMemberActivityRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordMemberActivityResponse:
        """Add to a member's counters, once per event key."""
        await self._record(request)
        return pb.RecordMemberActivityResponse()

    async def _record(self, request: pb.RecordMemberActivityRequest) -> None:
        if not 1 <= len(request.event_key) <= 200:
            raise InvalidInputError("event_key must be 1..200 characters")
        await self._repository.record_activity(
            request.community_id,
            request.member_id,
            comments_written=request.comments_written,
            reactions_received=request.reactions_received,
            event_key=request.event_key,
        )

    @domain_errors
    async def EraseMember(
        self, request: pb.EraseMemberRequest, context: grpc.aio.ServicerContext
    ) -> pb.EraseMemberResponse:
        """Erase the actor's identity and confessions; their channel posts are changed
        as the community chose (replaced by "[deleted]", or deleted)."""
        community_id = request.actor.community_id
        chat_id = request.actor.telegram_user_id

        async def queue_channel_edits(erasure: Erasure) -> None:
            await self._outbox.send(
                members.erasure_calls(community_id, erasure)
                + members.withdrawal_calls(community_id, erasure)
            )
            # What the queue holds of them goes in the same transaction's time.
            await self._outbox.erase(
                community_id, [chat_id], members.erased_keys(community_id, erasure)
            )

        erased = await self._repository.erase_member(
            community_id, chat_id, self.subject(community_id, chat_id), queue_channel_edits
        )
        if erased is None:
            # Erased already; a retry after a failure in between erases the queue again.
            await self._outbox.erase(community_id, [chat_id], [])
            return pb.EraseMemberResponse()
        erasure, count = erased
        return pb.EraseMemberResponse(member_id=erasure.member_id, confessions_erased=count)

    @domain_errors
    async def SetNotifications(
        self, request: pb.SetNotificationsRequest, context: grpc.aio.ServicerContext
    ) -> pb.MemberStanding:
        """Turn the actor's optional notifications on or off."""
        enabled = await self._repository.set_notifications(
            request.actor.community_id, request.actor.telegram_user_id, request.enabled
        )
        return pb.MemberStanding(notifications_enabled=enabled)

    # Members

    @domain_errors
    async def MarkUnreachable(
        self, request: pb.MarkUnreachableRequest, context: grpc.aio.ServicerContext
    ) -> pb.MarkUnreachableResponse:
        """The member's chat answered 403: skip notices to them until they write again."""
        await self._repository.mark_unreachable(request.community_id, request.telegram_user_id)
        return pb.MarkUnreachableResponse()

    @domain_errors
    async def GetProfile(
        self, request: pb.GetProfileRequest, context: grpc.aio.ServicerContext
    ) -> pb.Profile:
        """The actor's counters and impact points (one SQL statement)."""
        row = await self._repository.profile(
            request.actor.community_id, request.actor.telegram_user_id
        )
        if row is None:
            return pb.Profile(standing=pb.MemberStanding(notifications_enabled=True))
        return pb.Profile(
            confessions_sent=row.confessions_sent,
            confessions_approved=row.confessions_approved,
            comments_written=row.comments_written,
            reactions_received=row.reactions_received,
            impact_points=members.impact_points(
                row.confessions_approved, row.comments_written, row.reactions_received
            ),
            joined_at=timestamp(row.created_at),
            standing=pb.MemberStanding(notifications_enabled=row.notifications_enabled),
        )

    # -- moderation ------------------------------------------------------------

    @domain_errors
    async def ModerateConfession(
        self, request: pb.ModerateConfessionRequest, context: grpc.aio.ServicerContext
    ) -> pb.ModerateConfessionResponse:
        """Approve, reject or reject-and-ban a pending confession; one decision wins.

        What follows a decision (the channel post, the author's notice) is
        queued on every call while the decision stands, under keys derived from
        the confession: a retried press that lost to its own first attempt
        still finishes the work, and the notifier keeps one of each.
        """
        target = _TARGETS.get(request.action)
        if target is None:
            raise InvalidInputError("action must be approve, reject or ban")
        reason = request.reason.strip()[: domain.MAX_REASON_LENGTH]
        decided = await decision_sql.decide(
            self._repository.db,
            request.community_id,
            request.confession_id,
            to=target[0],
            decision=target[1],
            moderator=request.moderator.strip()[:64] or "an admin",
            reason=reason,
        )
        if decided is None:
            raise NotFoundError(f"confession {request.confession_id} does not exist")
        decision = decided.decision
        if decision.won and request.action == pb.MODERATION_ACTION_BAN:
            await self._ban(
                request.community_id,
                decision.member_id,
                until=None,
                reason=f"confession #{decision.confession.number}",
                label=f"confession #{decision.confession.number}",
            )
        call = follow_ups.decision_call(request.community_id, decided)
        if call is not None:
            await self._outbox.send([call])
        return pb.ModerateConfessionResponse(
            won=decision.won,
            confession=_confession(decision.confession),
            moderator=decision.moderator,
            reason=decision.reason,
            action=_DECISIONS.get(decision.decision, pb.MODERATION_ACTION_UNSPECIFIED),
        )

    @domain_errors
    async def RecordPublication(
        self, request: pb.RecordPublicationRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordPublicationResponse:
        """Store the channel post's id, mark the confession published, tell the author."""
        found = await self._repository.record_publication(
            request.community_id, request.confession_id, request.channel_message_id
        )
        if found is None:
            if await self._repository.is_deleted(request.community_id, request.confession_id):
                # Erased while its post was on the way: take the post down again.
                community = await self._repository.get_community(request.community_id)
                await self._outbox.send(
                    [
                        OutgoingCall(
                            community_id=community.id,
                            method="deleteMessage",
                            chat_id=community.channel_chat_id,
                            params={"message_id": request.channel_message_id},
                            idempotency_key=f"unpublish:{request.confession_id}",
                        )
                    ]
                )
            return pb.RecordPublicationResponse(published=False)
        row, author = found
        community = await self._repository.get_community(request.community_id)
        await self._outbox.send(
            [
                OutgoingCall(
                    community_id=community.id,
                    method="sendMessage",
                    chat_id=author,
                    params={
                        "text": domain.published_notice(
                            row.number,
                            post_link(community.channel_chat_id, request.channel_message_id),
                            deep_link(community.bot_username, row.number),
                        ),
                        "parse_mode": "HTML",
                        "link_preview_options": {"is_disabled": True},
                    },
                    idempotency_key=f"published:{row.id}",
                )
            ]
        )
        return pb.RecordPublicationResponse(published=True)

    @domain_errors
    async def UnbanMember(
        self, request: pb.UnbanMemberRequest, context: grpc.aio.ServicerContext
    ) -> pb.UnbanMemberResponse:
        """Lift bans by id or by label, never per member."""
        lifted = await self._protection.unban(
            request.community_id, ban_id=request.ban_id, label=request.label
        )
        return pb.UnbanMemberResponse(unbanned=lifted > 0, lifted=lifted)

    @domain_errors
    async def ListBans(
        self, request: pb.ListBansRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListBansResponse:
        """Bans in force, each its own entry, by id and the label admins gave."""
        bans = []
        for row in await self._protection.list_bans(request.community_id):
            ban = pb.Ban(
                id=row.id,
                label=row.label,
                reason=row.reason,
                created_at=timestamp(row.created_at),
            )
            if row.until is not None:
                ban.until.CopyFrom(timestamp(row.until))
            bans.append(ban)
        return pb.ListBansResponse(bans=bans)

    @domain_errors
    async def GetCommunityRules(
        self, request: pb.GetCommunityRulesRequest, context: grpc.aio.ServicerContext
    ) -> pb.CommunityRules:
        """The community's rules."""
        return _rules(request.community_id, await self._repository.rules(request.community_id))

    @domain_errors
    async def SetCommunityRule(
        self, request: pb.SetCommunityRuleRequest, context: grpc.aio.ServicerContext
    ) -> pb.CommunityRules:
        """Change one rule from the admin's text; a bad value is INVALID_ARGUMENT."""
        current = await self._repository.rules(request.community_id)
        changes = domain.apply_rule(current, request.name, request.value)
        rules = await self._repository.set_rules(request.community_id, changes)
        return _rules(request.community_id, rules)
