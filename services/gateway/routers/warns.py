"""Admin chat: warns and shadow bans (/warn, /unwarn, /shadowban, /settings warn_…)
and the ⚠️ Warn / 👻 Shadow-ban buttons on cards.

Members are named as /ban names them (``#12`` or a thread pseudonym); every
answer is about the warn or ban made under that label, never about who is
behind it.
"""

from __future__ import annotations

import re
from html import escape

import grpc
from aiogram import Router
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import CallbackQuery, Message

from services.gateway.admins import AdminCheck
from services.gateway.clients import ServiceClients
from services.gateway.filters import InAdminChat
from services.gateway.moderation import ban_line, until_of
from services.gateway.registry import CommunityEntry
from services.gateway.replies import answer_long, answer_query
from services.gateway.routers.admin import _DURATION, _allowed, _target
from services.gateway.safety import SafetyAction, safety_rules_text
from veil.core.durations import parse_duration
from veil.core.errors import InvalidInputError
from veil.core.proto import timestamp
from veil.v1 import confessions_pb2, safety_pb2, social_pb2

router = Router(name="warns")
router.message.filter(InAdminChat())

WARN_USAGE = (
    "Use <code>/warn #12 [reason]</code> (the author of confession #12) or "
    "<code>/warn Misty Heron 417 [reason]</code> (a pseudonym from a thread)."
)
SHADOW_USAGE = (
    "Use <code>/shadowban #12 [7d] [reason]</code> or "
    "<code>/shadowban Misty Heron 417 [12h] [reason]</code>."
)
_WARN_ID = re.compile(r"^\s*w?(\d{1,17})\s*$", re.IGNORECASE)


class WarnSetting(Filter):
    """``/settings warns`` or ``/settings warn_<rule> <value>``: the warn rules."""

    async def __call__(self, message: Message) -> bool:
        _, _, args = (message.text or "").partition(" ")
        return args.strip().lower().startswith("warn")


async def _warn(
    services: ServiceClients,
    community: CommunityEntry,
    member_id: int,
    label: str,
    reason: str,
    key: str,
) -> safety_pb2.WarnMemberResponse:
    response: safety_pb2.WarnMemberResponse = await services.safety.WarnMember(
        safety_pb2.WarnMemberRequest(
            community_id=community.id,
            member_id=member_id,
            label=label,
            reason=reason[:200],
            idempotency_key=key,
        )
    )
    return response


def _warned(label: str, reason: str) -> str:
    extra = f" — {escape(reason)}" if reason else ""
    return f"⚠️ Warned <b>{escape(label)}</b>{extra}. They are told (not by whom)."


@router.message(Command("warn"))
async def warn(
    message: Message,
    command: CommandObject,
    community: CommunityEntry,
    services: ServiceClients,
    admins: AdminCheck,
) -> None:
    """/warn #N|pseudonym [reason]."""
    if not await _allowed(message, community, admins):
        return
    target = await _target(message, command, community, services, WARN_USAGE)
    if target is None:
        return
    member_id, label, reason = target
    # The command's own message: a redelivered /warn makes one warn.
    key = f"cmd:{message.chat.id}:{message.message_id}"
    await _warn(services, community, member_id, label, reason, key)
    await message.answer(_warned(label, reason[:200]))


@router.message(Command("unwarn"))
async def unwarn(
    message: Message,
    command: CommandObject,
    community: CommunityEntry,
    services: ServiceClients,
    admins: AdminCheck,
) -> None:
    """/unwarn w<id>: removes one warn by the id /bans shows."""
    if not await _allowed(message, community, admins):
        return
    match = _WARN_ID.match(command.args or "")
    if match is None:
        await message.answer("Use <code>/unwarn w7</code> (a warn's id, as /bans lists it).")
        return
    response = await services.safety.RemoveWarn(
        safety_pb2.RemoveWarnRequest(community_id=community.id, warn_id=int(match.group(1)))
    )
    warn_id = match.group(1)
    await message.answer(
        f"✅ Warn w{warn_id} removed." if response.removed else f"No such warn: w{warn_id}."
    )


@router.message(Command("shadowban"))
async def shadowban(
    message: Message,
    command: CommandObject,
    community: CommunityEntry,
    services: ServiceClients,
    admins: AdminCheck,
) -> None:
    """/shadowban #N|pseudonym [duration] [reason]: nobody is told, the member least."""
    if not await _allowed(message, community, admins):
        return
    target = await _target(message, command, community, services, SHADOW_USAGE)
    if target is None:
        return
    member_id, label, rest = target
    head, _, tail = rest.partition(" ")
    seconds = None
    if head and _DURATION.match(head):
        try:
            seconds = parse_duration(head)
        except InvalidInputError as error:
            await message.answer(f"⚠️ {escape(str(error))}")
            return
        rest = tail.strip()
    request = confessions_pb2.BanMemberRequest(
        community_id=community.id, member_id=member_id, reason=rest[:200], label=label, shadow=True
    )
    until = until_of(seconds)
    if until is not None:
        request.until.CopyFrom(timestamp(until))
    await services.members.BanMember(request)
    await message.answer(
        "👻 Shadow-banned " + ban_line(label, request.reason, until).removeprefix("• ")
    )


@router.message(Command("settings"), WarnSetting())
async def warn_settings(
    message: Message,
    command: CommandObject,
    community: CommunityEntry,
    services: ServiceClients,
    admins: AdminCheck,
) -> None:
    """/settings warns shows the warn rules; /settings warn_<rule> <value> sets one."""
    if not await _allowed(message, community, admins):
        return
    name, _, value = (command.args or "").strip().partition(" ")
    if name.lower() == "warns" or not value.strip():
        rules = await services.safety.GetSafetyRules(
            safety_pb2.GetSafetyRulesRequest(community_id=community.id)
        )
        await message.answer(safety_rules_text(rules))
        return
    try:
        rules = await services.safety.SetSafetyRule(
            safety_pb2.SetSafetyRuleRequest(community_id=community.id, name=name, value=value)
        )
    except grpc.aio.AioRpcError as error:
        if error.code() != grpc.StatusCode.INVALID_ARGUMENT:
            raise
        await answer_long(message, f"⚠️ {escape(error.details() or 'Invalid value.')}")
        return
    await message.answer("✅ Saved.\n\n" + safety_rules_text(rules))


async def _writer(
    services: ServiceClients, community: CommunityEntry, kind: str, target: int
) -> tuple[int, str] | None:
    """(member id, label) behind a card: a confession's author or a comment's writer."""
    try:
        if kind == "c":
            found = await services.confessions.GetConfession(
                confessions_pb2.GetConfessionRequest(
                    community_id=community.id, confession_id=target
                )
            )
            if not found.author_member_id:
                return None
            return int(found.author_member_id), f"confession #{found.confession.number}"
        writer = await services.social.GetCommentWriter(
            social_pb2.GetCommentWriterRequest(community_id=community.id, comment_id=target)
        )
        return int(writer.member_id), writer.pseudonym
    except grpc.aio.AioRpcError as error:
        if error.code() != grpc.StatusCode.NOT_FOUND:
            raise
        return None


@router.callback_query(SafetyAction.filter())
async def press(
    query: CallbackQuery,
    callback_data: SafetyAction,
    community: CommunityEntry,
    services: ServiceClients,
    admins: AdminCheck,
) -> None:
    """⚠️ Warn or 👻 Shadow-ban on a card."""
    card = await admins.card(query, community)
    if card is None:
        return
    if callback_data.action not in ("warn", "shadow") or callback_data.kind not in ("c", "h"):
        await answer_query(query, "Unknown action.", alert=True)
        return
    writer = await _writer(services, community, callback_data.kind, callback_data.target)
    if writer is None:
        await answer_query(query, "Nobody to act on: the writer erased their data.", alert=True)
        return
    member_id, label = writer
    if callback_data.action == "warn":
        # One warn per card, however many presses.
        key = f"card:{card.chat.id}:{card.message_id}"
        response = await _warn(services, community, member_id, label, "", key)
        await answer_query(
            query, f"⚠️ Warned {label}." if response.created else f"{label} was warned already."
        )
        if response.created:
            await card.answer(_warned(label, ""))
        return
    await services.members.BanMember(
        confessions_pb2.BanMemberRequest(
            community_id=community.id, member_id=member_id, label=label, shadow=True
        )
    )
    await answer_query(query, f"👻 Shadow-banned {label}.")
