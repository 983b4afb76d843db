"""Admin-chat commands: /ban, /unban, /bans, /settings, /help, /cancel.

Members are named by confession number (``#12``, its author) or by a thread
pseudonym (``Misty Heron 417``), never by Telegram id. Only members of the
community's admin chat may use these, and only in that chat.
"""

from __future__ import annotations

import re
from html import escape

import grpc
from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from services.gateway import texts
from services.gateway.admins import AdminCheck
from services.gateway.clients import ServiceClients
from services.gateway.filters import InAdminChat
from services.gateway.moderation import ban_line, rules_text, until_of
from services.gateway.registry import CommunityEntry
from services.gateway.replies import answer_long
from veil.core.durations import parse_duration
from veil.core.errors import InvalidInputError
from veil.core.proto import optional_time, timestamp
from veil.v1 import confessions_pb2, social_pb2

router = Router(name="admin")
router.message.filter(InAdminChat())

# "#12" or a pseudonym ("Misty Heron 417"), then an optional duration, then a reason.
_TARGET = re.compile(r"^\s*(#\d{1,17}|[A-Za-z]+ [A-Za-z]+ \d{1,3})(?:\s+(.*))?$", re.DOTALL)
_DURATION = re.compile(r"^\d{1,6}[smhdw]$", re.IGNORECASE)
BAN_USAGE = (
    "Use <code>/ban #12 [7d] [reason]</code> (the author of confession #12) or "
    "<code>/ban Misty Heron 417 [12h] [reason]</code> (a pseudonym from a thread)."
)
UNBAN_USAGE = (
    "Use <code>/unban #12</code>, <code>/unban Misty Heron 417</code> (the label a ban was "
    "made with) or <code>/unban 7</code> (a ban's id, as /bans lists it)."
)
_BAN_ID = re.compile(r"^\s*(\d{1,17})\s*$")


class TargetError(Exception):
    """The admin named nobody we can find; the message says why."""


async def _allowed(message: Message, community: CommunityEntry, admins: AdminCheck) -> bool:
    return message.from_user is not None and await admins(
        community.bot, community.admin_chat_id, message.from_user.id
    )


async def _resolve(
    services: ServiceClients, community: CommunityEntry, target: str
) -> tuple[int, str]:
    """(internal member id, label) of "#N" or a pseudonym."""
    try:
        if target.startswith("#"):
            found = await services.confessions.GetConfession(
                confessions_pb2.GetConfessionRequest(
                    community_id=community.id, number=int(target[1:])
                )
            )
            if not found.author_member_id:
                raise TargetError(texts.nobody_behind(int(target[1:])))
            return int(found.author_member_id), f"confession {target}"
        resolved = await services.social.ResolvePseudonym(
            social_pb2.ResolvePseudonymRequest(community_id=community.id, pseudonym=target)
        )
        return int(resolved.member_id), target
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            raise TargetError(f"Nobody found for {target}.") from error
        if error.code() == grpc.StatusCode.FAILED_PRECONDITION:
            raise TargetError(error.details() or "Ambiguous name.") from error
        raise


async def _target(
    message: Message,
    command: CommandObject,
    community: CommunityEntry,
    services: ServiceClients,
    usage: str,
) -> tuple[int, str, str] | None:
    """(member id, label, the rest of the command) of "#N …" or "<pseudonym> …".

    None when the command names nobody we can find; the admin was told why.
    """
    match = _TARGET.match(command.args or "")
    if match is None:
        await message.answer(usage)
        return None
    try:
        member_id, label = await _resolve(services, community, match.group(1))
    except TargetError as error:
        await message.answer(f"⚠️ {escape(str(error))}")
        return None
    return member_id, label, (match.group(2) or "").strip()


@router.message(Command("ban"))
async def ban(
    message: Message,
    command: CommandObject,
    community: CommunityEntry,
    services: ServiceClients,
    admins: AdminCheck,
) -> None:
    """/ban #N|pseudonym [duration] [reason]."""
    if not await _allowed(message, community, admins):
        return
    target = await _target(message, command, community, services, BAN_USAGE)
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
        community_id=community.id, member_id=member_id, reason=rest[:200], label=label
    )
    until = until_of(seconds)
    if until is not None:
        request.until.CopyFrom(timestamp(until))
    await services.members.BanMember(request)
    await message.answer("🚫 Banned " + ban_line(label, request.reason, until).removeprefix("• "))


@router.message(Command("unban"))
async def unban(
    message: Message,
    command: CommandObject,
    community: CommunityEntry,
    services: ServiceClients,
    admins: AdminCheck,
) -> None:
    """/unban <ban id>|#N|pseudonym: lifts bans by id or label, never per member.

    Nobody is looked up: the answer depends on the bans alone, so it cannot
    tell whether a pseudonym belongs to a member banned under another label.
    """
    if not await _allowed(message, community, admins):
        return
    args = command.args or ""
    request = confessions_pb2.UnbanMemberRequest(community_id=community.id)
    by_id = _BAN_ID.match(args)
    match = _TARGET.match(args)
    if by_id is not None:
        request.ban_id = int(by_id.group(1))
        label = f"ban {request.ban_id}"
    elif match is not None and not (match.group(2) or "").strip():
        target = match.group(1)
        label = f"confession {target}" if target.startswith("#") else target
        request.label = label
    else:
        await message.answer(UNBAN_USAGE)
        return
    response = await services.members.UnbanMember(request)
    await message.answer(
        f"✅ Unbanned {escape(label)}." if response.unbanned else f"No such ban: {escape(label)}."
    )


@router.message(Command("bans"))
async def bans(
    message: Message, community: CommunityEntry, services: ServiceClients, admins: AdminCheck
) -> None:
    """/bans: the bans in force."""
    if not await _allowed(message, community, admins):
        return
    response = await services.members.ListBans(
        confessions_pb2.ListBansRequest(community_id=community.id)
    )
    if not response.bans:
        await message.answer("Nobody is banned.")
        return
    lines = [f"<b>Bans</b> ({len(response.bans)})"]
    for item in response.bans:
        until = optional_time(item, "until")
        lines.append(ban_line(item.label, item.reason, until, ban_id=item.id))
    await answer_long(message, "\n".join(lines))


@router.message(Command("help"))
async def help_(message: Message, community: CommunityEntry, admins: AdminCheck) -> None:
    """/help in the admin chat: the admin commands (members' help is in private)."""
    if await _allowed(message, community, admins):
        await message.answer(texts.ADMIN_HELP_TEXT)


@router.message(Command("cancel"))
async def cancel(message: Message) -> None:
    """/cancel with no reason being typed (the moderation router takes it otherwise)."""
    await message.answer(texts.NOTHING_TO_CANCEL)


@router.message(Command("settings"))
async def settings(
    message: Message,
    command: CommandObject,
    community: CommunityEntry,
    services: ServiceClients,
    admins: AdminCheck,
) -> None:
    """/settings shows the rules; /settings <name> <value> changes one."""
    if not await _allowed(message, community, admins):
        return
    name, _, value = (command.args or "").strip().partition(" ")
    if not name:
        rules = await services.communities.GetCommunityRules(
            confessions_pb2.GetCommunityRulesRequest(community_id=community.id)
        )
        await answer_long(message, rules_text(rules))
        return
    try:
        rules = await services.communities.SetCommunityRule(
            confessions_pb2.SetCommunityRuleRequest(
                community_id=community.id, name=name, value=value
            )
        )
    except grpc.aio.AioRpcError as error:
        if error.code() != grpc.StatusCode.INVALID_ARGUMENT:
            raise
        # The details echo what the admin typed: escaped, and cut to one message.
        await answer_long(message, f"⚠️ {escape(error.details() or 'Invalid value.')}")
        return
    await answer_long(message, "✅ Saved.\n\n" + rules_text(rules))
