"""Trust-and-safety RPCs, on top of the confessions servicer: warns and their
rules, and members' conversations with the admins.

Every answer names members by the label an admin gave ("confession #12", a
pseudonym) or the conversation's own label ("Guest 17"), one entry per warn:
never a Telegram id, never an answer that groups labels by member. The
Telegram ids read here only address the notifier's calls.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import grpc

from services.confessions import conversations as conv
from services.confessions import membership
from services.confessions.cards import CardRetirement
from services.confessions.communities_repository import CommunitiesRepository
from services.confessions.conversations import ConversationsRepository
from services.confessions.protection import ProtectionRepository, SubjectOf
from services.confessions.submission_limits import HourlyLimit
from services.confessions.warns import (
    SafetyRulesRow,
    WarnRow,
    WarnsRepository,
    apply_safety_rule,
)
from veil.contracts.callbacks import admin_conversation_markup, member_conversation_markup
from veil.core.durations import format_duration
from veil.core.errors import InvalidInputError, NotFoundError, RefusedError
from veil.core.links import write_markup
from veil.core.outbox import Outbox, OutgoingCall, Priority, conversation_key
from veil.core.proto import timestamp
from veil.core.telegram_text import cut_escaped
from veil.v1 import safety_pb2 as spb
from veil.v1 import safety_pb2_grpc as spb_grpc

MAX_MESSAGE = 1000
# Room for the framing around a member's or an admin's text.
_SHOWN = 3500


def _warn(row: WarnRow) -> spb.Warn:
    return spb.Warn(
        id=row.id,
        label=row.label,
        reason=row.reason,
        created_at=timestamp(row.created_at),
        expires_at=timestamp(row.expires_at),
    )


def _safety_rules(community_id: int, rules: SafetyRulesRow) -> spb.SafetyRules:
    return spb.SafetyRules(
        community_id=community_id,
        warn_expiry_seconds=rules.warn_expiry_seconds,
        warn_limit=rules.warn_limit,
        warn_ban_seconds=rules.warn_ban_seconds,
    )


def _text(value: str) -> str:
    text = value.strip()
    if not 1 <= len(text) <= MAX_MESSAGE:
        raise InvalidInputError(f"a message must be 1..{MAX_MESSAGE} characters")
    return text


class SafetyServicer(spb_grpc.SafetyServiceServicer):
    """Thin handlers over the warns and conversations repositories."""

    def __init__(
        self,
        *,
        warns: WarnsRepository,
        conversations: ConversationsRepository,
        write_limit: HourlyLimit,
        communities: CommunitiesRepository,
        protection: ProtectionRepository,
        outbox: Outbox,
        subject_of: SubjectOf,
        cards: CardRetirement,
    ) -> None:
        self._cards = cards
        self._warns = warns
        self._conversations = conversations
        self._write_limit = write_limit
        self._communities = communities
        self._protection = protection
        self._outbox = outbox
        self._subject_of = subject_of

    # -- warns -------------------------------------------------------------------

    async def WarnMember(
        self, request: spb.WarnMemberRequest, context: grpc.aio.ServicerContext
    ) -> spb.WarnMemberResponse:
        """Warn a member, tell them once, and ban them at the community's limit."""
        key = request.idempotency_key.strip()
        if not 1 <= len(key) <= 200:
            raise InvalidInputError("idempotency_key must be 1..200 characters")
        label = request.label.strip()[:64] or "a member"
        reason = request.reason.strip()[:200]
        warned = await self._warns.warn(
            request.community_id, request.member_id, label=label, reason=reason, key=key
        )
        rules = warned.rules
        community = await self._communities.get_community(request.community_id)
        why = f"\nReason: {html.escape(reason)}" if reason else ""
        notice = (
            f"⚠️ The admins of <b>{html.escape(community.title)}</b> warned you.{why}\n"
            f"A warn counts for {format_duration(rules.warn_expiry_seconds)}; "
            f"{rules.warn_limit} in that time mean a ban of "
            f"{format_duration(rules.warn_ban_seconds)}."
        )
        # Told once per warn (a retried call is the same warn).
        await self._outbox.send(
            [
                OutgoingCall(
                    community_id=community.id,
                    method="sendMessage",
                    chat_id=warned.telegram_id,
                    params={
                        "text": notice,
                        "parse_mode": "HTML",
                        "reply_markup": write_markup(community.bot_username),
                    },
                    idempotency_key=f"warn:{community.id}:{warned.warn.id}",
                )
            ]
        )
        if warned.reaches_limit:
            # Under the label of the warn that reached the limit: the ban is one
            # more entry of /bans, and the answer to the admin is the same.
            await membership.ban(
                self._protection,
                self._communities,
                self._outbox,
                self._cards,
                request.community_id,
                request.member_id,
                until=datetime.now(UTC) + timedelta(seconds=rules.warn_ban_seconds),
                reason=f"{rules.warn_limit} warns",
                label=label,
            )
        return spb.WarnMemberResponse(warn=_warn(warned.warn), created=warned.created)

    async def ListWarns(
        self, request: spb.ListWarnsRequest, context: grpc.aio.ServicerContext
    ) -> spb.ListWarnsResponse:
        """Warns in force, each its own entry."""
        rows = await self._warns.list_warns(request.community_id)
        return spb.ListWarnsResponse(warns=[_warn(row) for row in rows])

    async def RemoveWarn(
        self, request: spb.RemoveWarnRequest, context: grpc.aio.ServicerContext
    ) -> spb.RemoveWarnResponse:
        """Remove one warn by id."""
        removed = await self._warns.remove(request.community_id, request.warn_id)
        return spb.RemoveWarnResponse(removed=removed)

    async def GetSafetyRules(
        self, request: spb.GetSafetyRulesRequest, context: grpc.aio.ServicerContext
    ) -> spb.SafetyRules:
        """The community's warn rules."""
        return _safety_rules(request.community_id, await self._warns.rules(request.community_id))

    async def SetSafetyRule(
        self, request: spb.SetSafetyRuleRequest, context: grpc.aio.ServicerContext
    ) -> spb.SafetyRules:
        """Change one warn rule from the admin's text."""
        rules = await self._warns.set_rules(
            request.community_id, apply_safety_rule(request.name, request.value)
        )
        return _safety_rules(request.community_id, rules)

    # -- conversations with the admins ----------------------------------------------

    async def WriteToAdmins(
        self, request: spb.WriteToAdminsRequest, context: grpc.aio.ServicerContext
    ) -> spb.WriteToAdminsResponse:
        """Send a member's message to the admin chat under the conversation's label."""
        actor = request.actor
        text = _text(request.text)
        key = request.idempotency_key.strip()
        if not 1 <= len(key) <= 100:
            raise InvalidInputError("idempotency_key must be 1..100 characters")
        subject = self._subject_of(actor.community_id, actor.telegram_user_id)
        wait_ms = await self._write_limit.take(actor.community_id, subject)
        if wait_ms:
            wait = format_duration(max(1, -(-wait_ms // 60_000)) * 60)
            raise RefusedError(
                f"You have written to the admins often this hour. Please wait about {wait}."
            )
        opened = await self._conversations.open(actor.community_id, actor.telegram_user_id, subject)
        name = conv.label(opened.id)
        head = f"✉️ <b>{name}</b>" + (" · new conversation" if opened.opened else "")
        await self._outbox.send(
            [
                OutgoingCall(
                    community_id=actor.community_id,
                    method="sendMessage",
                    chat_id=opened.admin_chat_id,
                    params={
                        "text": f"{head}\n\n{cut_escaped(text, _SHOWN)}\n\n"
                        "<i>Reply to this message to answer.</i>",
                        "parse_mode": "HTML",
                        "reply_markup": admin_conversation_markup(opened.id),
                    },
                    # The member's message id: a redelivered message is sent once.
                    idempotency_key=conversation_key(opened.id, key),
                    priority=Priority.INTERACTIVE,
                )
            ]
        )
        return spb.WriteToAdminsResponse(label=name, opened=opened.opened)

    async def AnswerConversation(
        self, request: spb.AnswerConversationRequest, context: grpc.aio.ServicerContext
    ) -> spb.AnswerConversationResponse:
        """An admin's answer, to the member's private chat (if the conversation is open)."""
        text = _text(request.text)
        target = await self._conversations.target(request.community_id, request.conversation)
        if target is None:
            raise NotFoundError(f"no conversation {request.conversation}")
        if target.status != "open" or target.telegram_id is None:
            return spb.AnswerConversationResponse(delivered=False)
        await self._outbox.send(
            [
                OutgoingCall(
                    community_id=request.community_id,
                    method="sendMessage",
                    chat_id=target.telegram_id,
                    params={
                        "text": f"✉️ <b>The admins answered:</b>\n\n{cut_escaped(text, _SHOWN)}",
                        "parse_mode": "HTML",
                        "reply_markup": member_conversation_markup(),
                    },
                    idempotency_key=f"conv-answer:{target.id}:{request.idempotency_key}",
                    priority=Priority.INTERACTIVE,
                )
            ]
        )
        return spb.AnswerConversationResponse(delivered=True)

    async def CloseConversation(
        self, request: spb.CloseConversationRequest, context: grpc.aio.ServicerContext
    ) -> spb.CloseConversationResponse:
        """Close a conversation, by an admin (its number) or its member (their actor);
        the other side is told."""
        by_member = request.HasField("actor")
        community_id = request.actor.community_id if by_member else request.community_id
        conversation_id = request.conversation
        if by_member:
            found = await self._conversations.open_of(community_id, request.actor.telegram_user_id)
            if found is None:
                return spb.CloseConversationResponse(closed=False)
            conversation_id = found
        target = await self._conversations.set_status(
            community_id, conversation_id, to="closed", only_from=("open",)
        )
        name = conv.label(conversation_id)
        if target is None:
            return spb.CloseConversationResponse(closed=False, label=name)
        if by_member:
            call = OutgoingCall(
                community_id=community_id,
                method="sendMessage",
                chat_id=target.admin_chat_id,
                params={"text": f"✖️ <b>{name}</b> closed the conversation.", "parse_mode": "HTML"},
                idempotency_key=f"conv-closed:{target.id}",
            )
        elif target.telegram_id is not None:
            call = OutgoingCall(
                community_id=community_id,
                method="sendMessage",
                chat_id=target.telegram_id,
                params={
                    "text": "✖️ The admins closed the conversation. You can write to them "
                    "again from the menu.",
                },
                idempotency_key=f"conv-closed-member:{target.id}",
            )
        else:
            return spb.CloseConversationResponse(closed=True, label=name)
        await self._outbox.send([call])
        return spb.CloseConversationResponse(closed=True, label=name)

    async def BlockConversation(
        self, request: spb.BlockConversationRequest, context: grpc.aio.ServicerContext
    ) -> spb.BlockConversationResponse:
        """Block a conversation (its member cannot write to the admins again), or lift it."""
        if request.unblock:
            moved = await self._conversations.set_status(
                request.community_id, request.conversation, to="closed", only_from=("blocked",)
            )
        else:
            moved = await self._conversations.set_status(
                request.community_id,
                request.conversation,
                to="blocked",
                only_from=("open", "closed"),
            )
        return spb.BlockConversationResponse(
            done=moved is not None, label=conv.label(request.conversation)
        )
