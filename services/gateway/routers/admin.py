"""Admin-chat commands: /ban, /unban, /bans, /settings, /help, /cancel.

Members are named by confession number (``#12``, its author) or by a thread
pseudonym (``Misty Heron 417``), never by Telegram id. Only members of the
community's admin chat may use these, and only in that chat.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import TypeVar

import grpc
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from services.gateway.clients import ServiceClients
from services.gateway.filters import FromAdmin, InAdminChat
from services.gateway.registry import CommunityEntry
from services.gateway.replies import answer_long, reply
from services.gateway.routing import FeatureRouter
from services.gateway.views import admin_texts, safety_texts, texts
from services.gateway.views.admin_texts import ban_line, rules_text
from veil.core.durations import parse_duration
from veil.core.errors import InvalidInputError
from veil.core.proto import optional_time

T = TypeVar("T")

router = FeatureRouter(name="admin")
router.message.filter(InAdminChat())

# "#12" or a pseudonym ("Misty Heron 417"), then an optional duration, then a reason.
_TARGET = re.compile(r"^\s*(#\d{1,17}|[A-Za-z]+ [A-Za-z]+ \d{1,3})(?:\s+(.*))?$", re.DOTALL)
_DURATION = re.compile(r"^\d{1,6}[smhdw]$", re.IGNORECASE)
_BAN_ID = re.compile(r"^\s*(\d{1,17})\s*$")
# A ban keeps this much of the reason typed after /ban.
BAN_REASON_LENGTH = 200


class TargetError(Exception):
    """The admin named nobody we can find; the message says why."""


def until_of(seconds: int | None) -> datetime | None:
    """The end of a ban lasting ``seconds`` from now (None: permanent)."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(datetime.now(UTC).timestamp() + seconds, UTC)


async def _resolve(
    services: ServiceClients, community: CommunityEntry, target: str
) -> tuple[int, str]:
    """(internal member id, label) of "#N" or a pseudonym."""
    try:
        if target.startswith("#"):
            author = await services.author(community, int(target[1:]))
            if not author:
                raise TargetError(texts.nobody_behind(int(target[1:])))
            return author, f"confession {target}"
        return await services.pseudonym_owner(community, target), target
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            raise TargetError(admin_texts.nobody_found(target)) from error
        if error.code() == grpc.StatusCode.FAILED_PRECONDITION:
            raise TargetError(error.details() or admin_texts.AMBIGUOUS_NAME) from error
        raise


async def ban_terms(message: Message, rest: str) -> tuple[str, datetime | None] | None:
    """``[duration] [reason]`` of /ban and /shadowban: (reason, until), or None when
    the duration is refused (the admin is told why)."""
    head, _, tail = rest.partition(" ")
    seconds = None
    if head and _DURATION.match(head):
        try:
            seconds = parse_duration(head)
        except InvalidInputError as error:
            await reply(message, admin_texts.warning(str(error)))
            return None
        rest = tail.strip()
    return rest[:BAN_REASON_LENGTH], until_of(seconds)


async def target_of(
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
        await reply(message, usage)
        return None
    try:
        member_id, label = await _resolve(services, community, match.group(1))
    except TargetError as error:
        await reply(message, admin_texts.warning(str(error)))
        return None
    return member_id, label, (match.group(2) or "").strip()


@router.message(Command("ban"), FromAdmin())
async def ban(
    message: Message,
    command: CommandObject,
    community: CommunityEntry,
    services: ServiceClients,
) -> None:
    """/ban #N|pseudonym [duration] [reason]."""
    target = await target_of(message, command, community, services, admin_texts.BAN_USAGE)
    if target is None:
        return
    member_id, label, rest = target
    terms = await ban_terms(message, rest)
    if terms is None:
        return
    reason, until = terms
    await services.ban(community, member_id, label=label, reason=reason, until=until)
    await reply(message, admin_texts.banned(ban_line(label, reason, until)))


@router.message(Command("unban"), FromAdmin())
async def unban(
    message: Message,
    command: CommandObject,
    community: CommunityEntry,
    services: ServiceClients,
) -> None:
    """/unban <ban id>|#N|pseudonym: lifts bans by id or label, never per member.

    Nobody is looked up: the answer depends on the bans alone, so it cannot
    tell whether a pseudonym belongs to a member banned under another label.
    """
    args = command.args or ""
    by_id = _BAN_ID.match(args)
    match = _TARGET.match(args)
    if by_id is not None:
        label = f"ban {by_id.group(1)}"
        done = await services.unban(community, ban_id=int(by_id.group(1)))
    elif match is not None and not (match.group(2) or "").strip():
        target = match.group(1)
        label = f"confession {target}" if target.startswith("#") else target
        done = await services.unban(community, label=label)
    else:
        await reply(message, admin_texts.UNBAN_USAGE)
        return
    await reply(message, admin_texts.unbanned(label, done))


@router.message(Command("bans"), FromAdmin())
async def bans(message: Message, community: CommunityEntry, services: ServiceClients) -> None:
    """/bans: the bans in force, then the warns in force (each its own entry)."""
    in_force = await services.bans(community)
    warns = await services.warns(community)
    if not in_force and not warns:
        await reply(message, admin_texts.NOBODY_BANNED)
        return
    lines = [admin_texts.bans_head(len(in_force))]
    for item in in_force:
        until = optional_time(item, "until")
        lines.append(ban_line(item.label, item.reason, until, ban_id=item.id, shadow=item.shadow))
    if warns:
        lines += ["", safety_texts.warns_head(len(warns))]
        lines += [safety_texts.warn_line(warn) for warn in warns]
    await answer_long(message, "\n".join(lines))


@router.message(Command("help"), FromAdmin())
async def help_(message: Message) -> None:
    """/help in the admin chat: the admin commands (members' help is in private)."""
    await reply(message, texts.ADMIN_HELP_TEXT)


@router.message(Command("cancel"))
async def cancel(message: Message) -> None:
    """/cancel with no reason being typed (the moderation router takes it otherwise)."""
    await reply(message, texts.NOTHING_TO_CANCEL)


@router.message(Command("settings"), FromAdmin())
async def settings(
    message: Message,
    command: CommandObject,
    community: CommunityEntry,
    services: ServiceClients,
) -> None:
    """/settings shows the rules; /settings <name> <value> changes one."""
    name, _, value = (command.args or "").strip().partition(" ")
    if not name:
        await answer_long(message, rules_text(await services.rules(community)))
        return
    saved = await saved_or_refused(message, services.set_rule(community, name, value))
    if saved is not None:
        await answer_long(message, f"{admin_texts.SAVED}\n\n{rules_text(saved)}")


async def saved_or_refused(message: Message, change: Awaitable[T]) -> T | None:
    """The rules after ``change``; None once the admin was told why the value was refused."""
    try:
        return await change
    except grpc.aio.AioRpcError as error:
        if error.code() != grpc.StatusCode.INVALID_ARGUMENT:
            raise
        # The details echo what the admin typed: escaped, and cut to one message.
        await answer_long(
            message, admin_texts.warning(error.details() or admin_texts.INVALID_VALUE)
        )
        return None


@router.message(Command("ban", "unban", "bans", "help", "settings"))
async def not_admin(message: Message) -> None:
    """An admin command from someone not (or no longer) in the admin chat: no answer."""
