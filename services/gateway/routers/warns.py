"""Admin chat: warns and shadow bans (/warn, /unwarn, /shadowban, /settings warn_…)
and the ⚠️ Warn / 👻 Shadow-ban buttons on cards.

Members are named as /ban names them (``#12`` or a thread pseudonym); every
answer is about the warn or ban made under that label, never about who is
behind it.
"""

from __future__ import annotations

import re

from aiogram import F
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import CallbackQuery, Message

from services.gateway.clients import ServiceClients
from services.gateway.filters import FromAdmin, InAdminChat, Pressed
from services.gateway.registry import CommunityEntry
from services.gateway.replies import answer_query, reply
from services.gateway.routers.admin import ban_terms, saved_or_refused, target_of
from services.gateway.routing import FeatureRouter
from services.gateway.safety_calls import WARN_REASON_LENGTH
from services.gateway.views import admin_texts, safety_texts
from veil.contracts.callbacks import SafetyAction, SafetyButton

router = FeatureRouter(name="warns")
router.message.filter(InAdminChat())

_WARN_ID = re.compile(r"^\s*w?(\d{1,17})\s*$", re.IGNORECASE)


class WarnSetting(Filter):
    """``/settings warns`` or ``/settings warn_<rule> <value>``: the warn rules."""

    async def __call__(self, message: Message) -> bool:
        _, _, args = (message.text or "").partition(" ")
        return args.strip().lower().startswith("warn")


@router.message(Command("warn"), FromAdmin())
async def warn(
    message: Message, command: CommandObject, community: CommunityEntry, services: ServiceClients
) -> None:
    """/warn #N|pseudonym [reason]."""
    target = await target_of(message, command, community, services, safety_texts.WARN_USAGE)
    if target is None:
        return
    member_id, label, reason = target
    # The command's own message: a redelivered /warn makes one warn.
    key = f"cmd:{message.chat.id}:{message.message_id}"
    await services.warn(community, member_id, label=label, reason=reason, key=key)
    await reply(message, safety_texts.warned(label, reason[:WARN_REASON_LENGTH]))


@router.message(Command("unwarn"), FromAdmin())
async def unwarn(
    message: Message, command: CommandObject, community: CommunityEntry, services: ServiceClients
) -> None:
    """/unwarn w<id>: removes one warn by the id /bans shows."""
    match = _WARN_ID.match(command.args or "")
    if match is None:
        await reply(message, safety_texts.UNWARN_USAGE)
        return
    warn_id = int(match.group(1))
    await reply(message, safety_texts.unwarned(warn_id, await services.unwarn(community, warn_id)))


@router.message(Command("shadowban"), FromAdmin())
async def shadowban(
    message: Message, command: CommandObject, community: CommunityEntry, services: ServiceClients
) -> None:
    """/shadowban #N|pseudonym [duration] [reason]: nobody is told, the member least."""
    target = await target_of(message, command, community, services, safety_texts.SHADOW_USAGE)
    if target is None:
        return
    member_id, label, rest = target
    terms = await ban_terms(message, rest)
    if terms is None:
        return
    reason, until = terms
    await services.ban(community, member_id, label=label, reason=reason, until=until, shadow=True)
    await reply(message, safety_texts.shadow_banned(admin_texts.ban_line(label, reason, until)))


@router.message(Command("settings"), WarnSetting(), FromAdmin())
async def warn_settings(
    message: Message, command: CommandObject, community: CommunityEntry, services: ServiceClients
) -> None:
    """/settings warns shows the warn rules; /settings warn_<rule> <value> sets one."""
    name, _, value = (command.args or "").strip().partition(" ")
    if name.lower() == "warns" or not value.strip():
        await reply(message, safety_texts.safety_rules_text(await services.safety_rules(community)))
        return
    rules = await saved_or_refused(message, services.set_safety_rule(community, name, value))
    if rules is not None:
        await reply(message, f"{admin_texts.SAVED}\n\n{safety_texts.safety_rules_text(rules)}")


@router.message(Command("warn", "unwarn", "shadowban"))
async def not_admin(message: Message) -> None:
    """A warn command from someone not (or no longer) in the admin chat: no answer."""


async def _writer(
    query: CallbackQuery,
    pressed: SafetyAction,
    community: CommunityEntry,
    services: ServiceClients,
) -> tuple[int, str] | None:
    """(member id, label) behind the pressed card; None once the admin was told there is none."""
    writer = await services.card_writer(community, pressed.kind, pressed.target)
    if writer is None:
        await answer_query(query, safety_texts.NOBODY_TO_ACT_ON, alert=True)
    return writer


@router.callback_query(Pressed(SafetyAction, F.action == SafetyButton.WARN), FromAdmin())
async def press_warn(
    query: CallbackQuery,
    callback_data: SafetyAction,
    card: Message,
    community: CommunityEntry,
    services: ServiceClients,
) -> None:
    """⚠️ Warn on a card: one warn per card, however many presses."""
    writer = await _writer(query, callback_data, community, services)
    if writer is None:
        return
    member_id, label = writer
    key = f"card:{card.chat.id}:{card.message_id}"
    created = await services.warn(community, member_id, label=label, reason="", key=key)
    await answer_query(query, safety_texts.warned_alert(label, created))
    if created:
        await reply(card, safety_texts.warned(label, ""))


@router.callback_query(Pressed(SafetyAction, F.action == SafetyButton.SHADOW), FromAdmin())
async def press_shadow(
    query: CallbackQuery,
    callback_data: SafetyAction,
    community: CommunityEntry,
    services: ServiceClients,
) -> None:
    """👻 Shadow-ban on a card (for good; /unban lifts it)."""
    writer = await _writer(query, callback_data, community, services)
    if writer is None:
        return
    member_id, label = writer
    await services.ban(community, member_id, label=label, reason="", until=None, shadow=True)
    await answer_query(query, safety_texts.shadow_alert(label))


@router.callback_query(Pressed(SafetyAction))
async def refuse(query: CallbackQuery) -> None:
    """A safety button pressed by someone not in the admin chat."""
    await answer_query(query, admin_texts.ONLY_ADMINS, alert=True)
