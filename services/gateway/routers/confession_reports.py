"""Reporting a confession (issue 16): 🚩 under its thread asks for a reason, the
social service weighs the report, and at the community's threshold the admins
get a card: 🗑 Take down (the confession and its channel post go) or ✔️ Keep.
The card names reasons and a weighted total, never a reporter."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from services.gateway import reports, texts
from services.gateway.admins import AdminCheck
from services.gateway.clients import ServiceClients
from services.gateway.filters import PrivateChat
from services.gateway.registry import CommunityEntry
from services.gateway.replies import answer_query, edit_text
from services.gateway.routers.context import actor
from services.gateway.threads import ConfessionReport, ConfessionVerdict, open_thread_context
from veil.core.telegram_text import append_line
from veil.v1 import confessions_pb2, social_pb2

router = Router(name="confession-reports")
router.callback_query.filter(PrivateChat())
# The card's buttons live in the admin chat.
admin_router = Router(name="reported-confessions")

BANNED = "You are banned in this community and cannot report."


def _reasons(number: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=label, callback_data=ConfessionReport(n=number, v=v).pack())]
            for v, (_, label) in reports.REASONS.items()
        ]
    )


@router.callback_query(ConfessionReport.filter())
async def report(
    query: CallbackQuery,
    callback_data: ConfessionReport,
    community: CommunityEntry,
    services: ServiceClients,
) -> None:
    """🚩: a message asking why; a reason: the weighted report."""
    number = callback_data.n
    registered = await services.members.RegisterMember(
        confessions_pb2.RegisterMemberRequest(
            actor=actor(community, query.from_user), thread_number=number
        )
    )
    if registered.standing.banned:
        await answer_query(query, BANNED, alert=True)
        return
    context = (
        open_thread_context(community, number, registered.thread)
        if registered.HasField("thread")
        else None
    )
    if context is None:
        await answer_query(query, texts.thread_unavailable(number), alert=True)
        return
    message = query.message if isinstance(query.message, Message) else None
    if callback_data.v not in reports.REASONS:
        await answer_query(query)
        if message is not None:
            await message.answer(
                f"Why are you reporting confession #{number}?", reply_markup=_reasons(number)
            )
        return
    result = await services.social.ReportConfession(
        social_pb2.ReportConfessionRequest(
            thread=context,
            member_id=registered.member.id,
            subject=registered.member.subject,
            reason=reports.REASONS[callback_data.v][0],
            reporter=reports.reporter_standing(registered.member),
            rules=registered.comment_rules,
        )
    )
    done = "Reported. Thank you." if result.counted else "You reported this already."
    await answer_query(query, done)
    if message is not None:
        await edit_text(message, f"🚩 Confession #{number}: {done}")


@admin_router.callback_query(ConfessionVerdict.filter())
async def verdict(
    query: CallbackQuery,
    callback_data: ConfessionVerdict,
    community: CommunityEntry,
    services: ServiceClients,
    admins: AdminCheck,
) -> None:
    """🗑 Take down (once, whoever presses first) or ✔️ Keep (admin chat only)."""
    message = await admins.card(query, community)
    if message is None:
        return
    if callback_data.action == "down":
        taken = await services.confessions.TakeDownConfession(
            confessions_pb2.TakeDownConfessionRequest(
                community_id=community.id, number=callback_data.number
            )
        )
        if not taken.done:
            await answer_query(query, "Already handled, or no longer in the channel.", alert=True)
            return
        outcome = "🗑 Taken down"
    else:
        outcome = "✔️ Kept"
    await answer_query(query, outcome)
    line = f"{outcome} by {escape(query.from_user.first_name)}."
    await edit_text(message, append_line(message.html_text, line))
