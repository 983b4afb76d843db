"""Reporting a confession (issue 16): 🚩 under its thread asks for a reason, the
social service weighs the report, and at the community's threshold the admins
get a card: 🗑 Take down (the confession and its channel post go) or ✔️ Keep.
The card names reasons and a weighted total, never a reporter."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message

from services.gateway.clients import ServiceClients
from services.gateway.filters import FromAdmin, Pressed, PrivateChat
from services.gateway.member import MemberLookup
from services.gateway.registry import CommunityEntry
from services.gateway.replies import answer_query, edit_text, reply
from services.gateway.routing import FeatureRouter
from services.gateway.service_types import ThreadNotFoundError, open_thread
from services.gateway.views import admin_texts, texts
from services.gateway.views.keyboards import confession_report_keyboard
from veil.contracts.callbacks import (
    ConfessionReport,
    ConfessionVerdict,
    VerdictButton,
    report_reason,
)
from veil.core.telegram_text import append_line

router = FeatureRouter(name="confession-reports")
router.callback_query.filter(PrivateChat())
# The card's buttons live in the admin chat.
admin_router = FeatureRouter(name="reported-confessions")


@router.callback_query(Pressed(ConfessionReport))
async def report(
    query: CallbackQuery,
    callback_data: ConfessionReport,
    community: CommunityEntry,
    services: ServiceClients,
    member: MemberLookup,
) -> None:
    """🚩: a message asking why; a reason: the weighted report."""
    number = callback_data.number
    reason = report_reason(callback_data.reason)
    # A report is weighed against the community's rules and the reporter's
    # approved confessions, which only the service counts.
    reporting = reason is not None
    registered = await member(number, rules=reporting, counted=reporting)
    if registered.standing.banned:
        await answer_query(query, texts.BANNED_FROM_REPORTING, alert=True)
        return
    try:
        if not registered.HasField("thread"):
            raise ThreadNotFoundError
        thread = open_thread(community, number, registered.thread)
    except ThreadNotFoundError:
        await answer_query(query, texts.thread_unavailable(number), alert=True)
        return
    message = query.message if isinstance(query.message, Message) else None
    if reason is None:
        await answer_query(query)
        if message is not None:
            await reply(
                message,
                texts.ask_confession_report_reason(number),
                reply_markup=confession_report_keyboard(number),
            )
        return
    counted = await services.report_confession(thread, registered, reason)
    await answer_query(query, texts.REPORTED if counted else texts.REPORTED_ALREADY)
    if message is not None:
        await edit_text(message, texts.confession_reported(number, counted))


@admin_router.callback_query(Pressed(ConfessionVerdict), FromAdmin())
async def verdict(
    query: CallbackQuery,
    callback_data: ConfessionVerdict,
    card: Message,
    community: CommunityEntry,
    services: ServiceClients,
) -> None:
    """🗑 Take down or ✔️ Keep (admins of the admin chat); either settles the
    reports in their reporters' record (upheld, restored).

    A take-down pressed again while the confession stands taken down finishes
    what a failed first press left (the post's deletion, the settling: both
    idempotent), so it answers as the first did.
    """
    if callback_data.action == VerdictButton.TAKE_DOWN:
        confession_id = await services.take_down(community, callback_data.number)
    else:
        try:
            thread = await services.thread(community, callback_data.number)
            confession_id = thread.context.confession_id
        except ThreadNotFoundError:
            confession_id = 0
    if not confession_id:
        await answer_query(query, admin_texts.NOT_TAKEN_DOWN, alert=True)
        return
    await services.settle_confession_reports(
        community, confession_id, upheld=callback_data.action == VerdictButton.TAKE_DOWN
    )
    outcome = admin_texts.VERDICT_OUTCOMES[callback_data.action]
    await answer_query(query, outcome)
    line = admin_texts.hidden_decided(outcome, query.from_user.first_name)
    await edit_text(card, append_line(card.html_text, line))


@admin_router.callback_query(Pressed(ConfessionVerdict))
async def refuse(query: CallbackQuery) -> None:
    """A reported confession's button pressed by someone not an admin of the admin chat."""
    await answer_query(query, admin_texts.ONLY_ADMINS, alert=True)
