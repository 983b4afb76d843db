"""Comment threads: the "💬 Comments" deep link, paging, sorting, comments, reactions, reports.

Every press re-renders the thread message from the services, so what a member
sees is always what is stored. Reads go to the replica, except for a member who
wrote a moment ago: for ``READ_OWN_SECONDS`` after a comment their views read
the primary, so they see it at once even when the replica lags.
"""

from __future__ import annotations

import time
import uuid
from html import escape

import grpc
from aiogram import Router
from aiogram.filters import Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User

from services.gateway import reports, texts, threads
from services.gateway.admins import ONLY_ADMINS, AdminCheck
from services.gateway.clients import ServiceClients
from services.gateway.entities import as_proto, trimmed_entities
from services.gateway.filters import HasText, PrivateChat
from services.gateway.keyboards import MAIN_MENU
from services.gateway.registry import CommunityEntry
from services.gateway.replies import answer_query, edit_text
from services.gateway.routers.context import actor
from services.gateway.threads import (
    CommentAction,
    Compose,
    HiddenAction,
    ThreadView,
    open_thread_context,
)
from veil.core.grpc_errors import member_refusal
from veil.core.telegram_text import append_line
from veil.v1 import confessions_pb2, social_pb2

router = Router(name="threads")
# Member flows answer in the private chat only (routers/elsewhere.py points there).
router.message.filter(PrivateChat())
router.callback_query.filter(PrivateChat())
# Hidden-comment cards live in the admin chat: their buttons have a router of their own.
admin_router = Router(name="hidden-comments")

READ_OWN_SECONDS = 15.0
BANNED = "You are banned in this community and cannot comment."
BANNED_FROM_ACTING = "You are banned in this community and cannot react or report."
MAX_COMMENT = 1000
_MODERATION = {
    "restore": (social_pb2.COMMENT_MODERATION_RESTORE, "↩️ Restored"),
    "delete": (social_pb2.COMMENT_MODERATION_DELETE, "🗑 Deleted"),
    "ban": (social_pb2.COMMENT_MODERATION_DELETE_AND_BAN, "🚫 Deleted, writer banned"),
    # The card of a comment a rule flagged (it may still be visible).
    "fdelete": (social_pb2.COMMENT_MODERATION_DELETE, "🗑 Deleted"),
    "fban": (social_pb2.COMMENT_MODERATION_DELETE_AND_BAN, "🚫 Deleted, writer banned"),
}
KEPT = "✔️ Kept"


class Commenting(StatesGroup):
    """A comment (or reply) being written."""

    writing = State()


class ThreadLink(Filter):
    """``/start c_<N>``: passes the confession number to the handler."""

    async def __call__(self, message: Message) -> bool | dict[str, int]:
        text = message.text or ""
        if not text.startswith("/start c_"):
            return False
        number = text.removeprefix("/start c_").strip()
        return {"number": int(number)} if number.isdigit() and len(number) < 18 else False


class ThreadNotFoundError(Exception):
    """The confession has no open thread (unknown, pending, rejected or deleted)."""


async def _thread(
    services: ServiceClients, community: CommunityEntry, number: int
) -> tuple[social_pb2.ThreadContext, str]:
    """Where thread ``number`` lives, and the confession's text."""
    try:
        found = await services.confessions.GetConfession(
            confessions_pb2.GetConfessionRequest(community_id=community.id, number=number)
        )
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            raise ThreadNotFoundError from error
        raise
    return _context(community, number, found)


async def _register(
    services: ServiceClients, community: CommunityEntry, user: User, number: int
) -> confessions_pb2.RegisterMemberResponse:
    """The member behind the update and thread ``number``'s confession, in one call."""
    response: confessions_pb2.RegisterMemberResponse = await services.members.RegisterMember(
        confessions_pb2.RegisterMemberRequest(actor=actor(community, user), thread_number=number)
    )
    return response


def _open(
    community: CommunityEntry, number: int, registered: confessions_pb2.RegisterMemberResponse
) -> tuple[social_pb2.ThreadContext, str]:
    """The thread that came with the member (see :func:`_register`), if it is open."""
    if not registered.HasField("thread"):
        raise ThreadNotFoundError
    return _context(community, number, registered.thread)


def _context(
    community: CommunityEntry, number: int, found: confessions_pb2.GetConfessionResponse
) -> tuple[social_pb2.ThreadContext, str]:
    """Where an open thread lives, and the confession's text."""
    context = open_thread_context(community, number, found)
    if context is None:
        raise ThreadNotFoundError
    return context, found.confession.text


async def _fresh(state: FSMContext) -> bool:
    """True while the member's own recent comment may not be on the replica yet."""
    return float((await state.get_data()).get("read_own_until", 0)) > time.time()


async def _page(
    services: ServiceClients,
    context: social_pb2.ThreadContext,
    member_id: int,
    p: int,
    s: int,
    consistent: bool,
) -> social_pb2.ListCommentsResponse:
    page: social_pb2.ListCommentsResponse = await services.social.ListComments(
        social_pb2.ListCommentsRequest(
            community_id=context.community_id,
            confession_id=context.confession_id,
            limit=threads.PAGE_SIZE,
            offset=p * threads.PAGE_SIZE,
            viewer_member_id=member_id,
            sort=social_pb2.CommentSort.ValueType(s),
            consistent=consistent,
        )
    )
    return page


async def _render(
    services: ServiceClients,
    community: CommunityEntry,
    user: User,
    state: FSMContext,
    number: int,
    p: int,
    s: int,
    own_write: bool = False,
    known: tuple[int, social_pb2.ThreadContext, str] | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    # ``known``: the member and thread the handler resolved a moment ago for
    # this same update (a press or a comment), not asked for twice.
    if known is None:
        registered = await _register(services, community, user, number)
        member_id = int(registered.member.id)
        context, text = _open(community, number, registered)
    else:
        member_id, context, text = known
    # Right after the member's own reaction, report or deletion the page is read
    # from the primary: the replica may not have replayed that write yet.
    consistent = own_write or await _fresh(state)
    page = await _page(services, context, member_id, p, s, consistent)
    if not page.comments and p > 0:
        # The page emptied (deletions, hiding): show the last one that has comments.
        p = max(0, (page.total - 1) // threads.PAGE_SIZE)
        page = await _page(services, context, member_id, p, s, consistent)
    return threads.render(number, text, page, p, s), threads.keyboard(number, page, p, s)


@router.message(ThreadLink())
async def open_thread(
    message: Message,
    number: int,
    community: CommunityEntry,
    services: ServiceClients,
    state: FSMContext,
) -> None:
    """The "💬 Comments" deep link under a channel post."""
    assert message.from_user is not None
    try:
        text, markup = await _render(services, community, message.from_user, state, number, 0, 0)
    except ThreadNotFoundError:
        await message.answer(texts.thread_unavailable(number))
        return
    await message.answer(text, reply_markup=markup)


@router.callback_query(ThreadView.filter())
async def view(
    query: CallbackQuery,
    callback_data: ThreadView,
    community: CommunityEntry,
    services: ServiceClients,
    state: FSMContext,
) -> None:
    """⬅️ ➡️ pages, sort toggles and 🔄."""
    await _refresh(
        query, community, services, state, callback_data.n, callback_data.p, callback_data.s
    )


async def _refresh(
    query: CallbackQuery,
    community: CommunityEntry,
    services: ServiceClients,
    state: FSMContext,
    number: int,
    p: int,
    s: int,
    notice: str | None = None,
    own_write: bool = False,
    known: tuple[int, social_pb2.ThreadContext, str] | None = None,
) -> None:
    try:
        text, markup = await _render(
            services, community, query.from_user, state, number, p, s, own_write, known
        )
    except ThreadNotFoundError:
        await _unavailable(query, number)
        return
    await answer_query(query, notice)
    if isinstance(query.message, Message):
        await edit_text(query.message, text, markup)


async def _unavailable(query: CallbackQuery, number: int) -> None:
    """A press on a thread that is not open (any more): say so, and replace the
    stale message, which may still show a withdrawn confession, without buttons."""
    await answer_query(query, texts.thread_unavailable(number), alert=True)
    if isinstance(query.message, Message):
        await edit_text(query.message, texts.thread_unavailable(number))


@router.callback_query(CommentAction.filter())
async def comment_action(
    query: CallbackQuery,
    callback_data: CommentAction,
    community: CommunityEntry,
    services: ServiceClients,
    state: FSMContext,
) -> None:
    """👍 / 👎 (set, so a redelivered press is harmless), ⚠️ report, 🗑 delete own."""
    data = callback_data
    registered = await _register(services, community, query.from_user, data.n)
    if registered.standing.banned and data.a in ("up", "dn", "rp"):
        # A ban holds on every path: a banned member neither reacts nor reports
        # (a forged or old button included); deleting their own comment stays.
        await answer_query(query, BANNED_FROM_ACTING, alert=True)
        return
    if data.a == "rp" and data.v not in reports.REASONS:
        # ⚠️ asks for a reason first; nothing is filed until one is pressed.
        await answer_query(query, reports.ASK_REASON)
        if isinstance(query.message, Message):
            await edit_text(
                query.message,
                query.message.html_text,
                reports.reasons_keyboard(data.c, data.n, data.p, data.s),
            )
        return
    member = registered.member
    member_id = int(member.id)
    notice: str | None = None
    known: tuple[int, social_pb2.ThreadContext, str] | None = None
    try:
        # Every action names the thread it was shown in; the social service
        # refuses a comment of another thread, or of a thread no longer open.
        context, confession_text = _open(community, data.n, registered)
        if data.a in ("up", "dn"):
            # One reaction and one report per protected subject: /deleteme and
            # a new /start do not give a second one.
            await services.social.React(
                social_pb2.ReactRequest(
                    community_id=community.id,
                    comment_id=data.c,
                    member_id=member_id,
                    value=data.v,
                    thread=context,
                    subject=member.subject,
                )
            )
        elif data.a == "rp":
            # Weighted by the reporter's standing; the threshold is the community's.
            report = await services.social.ReportComment(
                social_pb2.ReportCommentRequest(
                    comment_id=data.c,
                    member_id=member_id,
                    thread=context,
                    subject=member.subject,
                    reason=reports.REASONS[data.v][0],
                    reporter=reports.reporter_standing(member),
                    rules=registered.comment_rules,
                )
            )
            notice = "Reported. Thank you." if report.counted else "You reported this already."
        elif data.a == "rm":
            deleted = await services.social.DeleteComment(
                social_pb2.DeleteCommentRequest(
                    community_id=community.id,
                    comment_id=data.c,
                    member_id=member_id,
                    thread=context,
                )
            )
            notice = "Comment deleted." if deleted.deleted else "Only your own comments."
        # The page re-rendered below shows the same thread: no second lookup.
        # After a refusal it is looked up again (the thread may have closed).
        known = (member_id, context, confession_text)
    except grpc.aio.AioRpcError as error:
        if error.code() != grpc.StatusCode.NOT_FOUND:
            raise
        notice = "That comment is gone."
    except ThreadNotFoundError:
        await _unavailable(query, data.n)
        return
    await _refresh(
        query,
        community,
        services,
        state,
        data.n,
        data.p,
        data.s,
        notice,
        own_write=True,
        known=known,
    )


@router.callback_query(Compose.filter())
async def compose(
    query: CallbackQuery,
    callback_data: Compose,
    community: CommunityEntry,
    services: ServiceClients,
    state: FSMContext,
) -> None:
    """➕ Comment or ↩️ Reply: ask for the text."""
    standing = await services.members.RegisterMember(
        confessions_pb2.RegisterMemberRequest(actor=actor(community, query.from_user))
    )
    if standing.standing.banned:
        await answer_query(query, BANNED, alert=True)
        return
    await answer_query(query)
    if isinstance(query.message, Message):
        what = "reply" if callback_data.parent else "comment"
        await query.message.answer(
            f"Write your {what} on #{callback_data.n} (up to {MAX_COMMENT} characters). "
            "/cancel to stop."
        )
    # The prompt was shown first: a redelivered press asks again, nothing is lost.
    data = await state.get_data()
    await state.set_state(Commenting.writing)
    await state.set_data(
        {
            **data,
            "n": callback_data.n,
            "parent": callback_data.parent,
            "key": uuid.uuid4().hex[:16],
        }
    )


@router.message(StateFilter(Commenting.writing), HasText())
async def write(
    message: Message, community: CommunityEntry, services: ServiceClients, state: FSMContext
) -> None:
    """Store the comment and show the thread page it landed on."""
    assert message.from_user is not None
    text = (message.text or "").strip()
    if len(text) > MAX_COMMENT:
        await message.answer(
            f"That is {len(text)} characters; a comment holds up to {MAX_COMMENT}. "
            "Please shorten it."
        )
        return
    data = await state.get_data()
    number = int(data["n"])
    member = await _register(services, community, message.from_user, number)
    if member.standing.banned:
        # Banned while writing: the comment is not stored.
        await message.answer(BANNED, reply_markup=MAIN_MENU)
        await state.set_state(None)
        return
    member_id = int(member.member.id)
    try:
        context, confession_text = _open(community, number, member)
        added = await services.social.AddComment(
            social_pb2.AddCommentRequest(
                community_id=community.id,
                confession_id=context.confession_id,
                member_id=member_id,
                parent_id=int(data.get("parent", 0)),
                text=text,
                # The same draft always stores the same comment, however often
                # Telegram delivers the message.
                idempotency_key=f"comment:{data['key']}",
                thread=context,
                # The community's rules are applied by the social service, in-process.
                rules=member.comment_rules,
                entities=as_proto(trimmed_entities(message.text or "", message.entities)),
            )
        )
    except ThreadNotFoundError:
        await message.answer(texts.thread_unavailable(number), reply_markup=MAIN_MENU)
        await state.set_state(None)
        return
    except grpc.aio.AioRpcError as error:
        refusal = member_refusal(error)
        if refusal is not None and error.code() == grpc.StatusCode.INVALID_ARGUMENT:
            # A community rule refused it (personal information, a filtered
            # word, the length): they are still writing, the same draft key kept.
            await message.answer(f"{refusal}\n/cancel to stop.")
            return
        if error.code() != grpc.StatusCode.NOT_FOUND:
            raise
        await message.answer("The comment you replied to is gone.", reply_markup=MAIN_MENU)
        await state.set_state(None)
        return
    await state.update_data(read_own_until=time.time() + READ_OWN_SECONDS)
    last_page = max(0, (int(added.thread_count) - 1) // threads.PAGE_SIZE)
    rendered, markup = await _render(
        services,
        community,
        message.from_user,
        state,
        number,
        last_page,
        0,
        known=(member_id, context, confession_text),
    )
    await message.answer(rendered, reply_markup=markup)
    await state.set_state(None)


@admin_router.callback_query(HiddenAction.filter())
async def moderate_hidden(
    query: CallbackQuery,
    callback_data: HiddenAction,
    community: CommunityEntry,
    services: ServiceClients,
    admins: AdminCheck,
) -> None:
    """Restore, delete, or delete and ban: a comment that reports hid, or that a rule
    flagged (then keep, delete, or delete and ban) (admin chat only)."""
    action = _MODERATION.get(callback_data.action)
    if action is None and callback_data.action != "fkeep":
        await answer_query(query, ONLY_ADMINS, alert=True)
        return
    message = await admins.card(query, community)
    if message is None:
        return
    if action is None:
        # Keep a flagged comment: nothing changes but the card.
        await answer_query(query, KEPT)
        line = f"{KEPT} by {escape(query.from_user.first_name)}."
        await edit_text(message, append_line(message.html_text, line))
        return
    try:
        context, _ = await _thread(services, community, callback_data.number)
    except ThreadNotFoundError:
        await answer_query(query, "That confession is gone.", alert=True)
        return
    result = await services.social.ModerateComment(
        social_pb2.ModerateCommentRequest(
            comment_id=callback_data.comment,
            action=action[0],
            thread=context,
            flagged=callback_data.action.startswith("f"),
        )
    )
    if not result.done:
        await answer_query(query, "Already handled by another admin.", alert=True)
        return
    await answer_query(query, action[1])
    line = f"{action[1]} by {escape(query.from_user.first_name)}."
    await edit_text(message, append_line(message.html_text, line))
