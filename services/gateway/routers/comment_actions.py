"""Writing in a thread: ➕ comment, ↩️ reply, 👍 / 👎, ⚠️ report, 🗑 delete one's own.

A ban holds on every path: a banned member neither comments, reacts nor
reports (a forged or old button included); deleting their own comment stays.
Every action names the thread it was shown in; the social service refuses a
comment of another thread, or of a thread no longer open. ⚠️ first shows the
reasons; the reason pressed files a report weighted by the reporter's
standing. A comment is held to the community's rules (length, word filter,
personal information) by the social service, with the rules RegisterMember
gave.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import grpc
from aiogram import F
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from services.gateway.clients import ServiceClients
from services.gateway.entities import trimmed_entities
from services.gateway.filters import Pressed, PrivateChat, Typed
from services.gateway.member import MemberLookup
from services.gateway.registry import CommunityEntry
from services.gateway.replies import answer_query, edit_message, reply
from services.gateway.routers.threads import (
    mark_own_write,
    member_and_thread,
    refresh,
    render,
    unavailable,
)
from services.gateway.routing import FeatureRouter
from services.gateway.service_types import (
    Thread,
    ThreadNotFoundError,
    answered_page,
    not_found,
    page_after,
)
from services.gateway.views import texts, thread_page
from services.gateway.views.keyboards import MAIN_MENU, report_reasons_keyboard
from veil.contracts.callbacks import (
    REPORT_REASONS,
    CommentAction,
    CommentButton,
    Compose,
    report_reason,
)
from veil.contracts.lengths import COMMENT_MAX_LENGTH
from veil.core.grpc_errors import member_refusal
from veil.v1 import confessions_pb2
from veil.v1.social_pb2 import ListCommentsResponse, PageAfter

router = FeatureRouter(name="comment-actions")
# Member flows answer in the private chat only (routers/elsewhere.py points there).
router.message.filter(PrivateChat())
router.callback_query.filter(PrivateChat())

# What one press does, given the member, the thread and the page to answer
# with: its notice (or None) and that page after it (None: read it afresh).
Act = Callable[
    [ServiceClients, confessions_pb2.RegisterMemberResponse, Thread, CommentAction, PageAfter],
    Awaitable[tuple[str | None, ListCommentsResponse | None]],
]
# The numbers of the reasons a report button can carry (0 asks for one).
REASON_CODES = frozenset(range(1, len(REPORT_REASONS) + 1))


class Commenting(StatesGroup):
    """A comment (or reply) being written."""

    writing = State()


async def _react(
    services: ServiceClients,
    member: confessions_pb2.RegisterMemberResponse,
    thread: Thread,
    data: CommentAction,
    after: PageAfter,
) -> tuple[str | None, ListCommentsResponse | None]:
    # One reaction and one report per protected subject: /deleteme and a new
    # /start do not give a second one.
    return None, await services.react(thread, member.member, data.comment, data.value, after)


async def _report(
    services: ServiceClients,
    member: confessions_pb2.RegisterMemberResponse,
    thread: Thread,
    data: CommentAction,
    after: PageAfter,
) -> tuple[str | None, ListCommentsResponse | None]:
    reason = report_reason(data.value)
    assert reason is not None  # the handler's filter lets reasons only through
    # Weighted by the reporter's standing; the threshold is the community's.
    counted, shown = await services.report(thread, member, data.comment, reason, after)
    return texts.REPORTED if counted else texts.REPORTED_ALREADY, shown


async def _remove(
    services: ServiceClients,
    member: confessions_pb2.RegisterMemberResponse,
    thread: Thread,
    data: CommentAction,
    after: PageAfter,
) -> tuple[str | None, ListCommentsResponse | None]:
    deleted, shown = await services.delete_comment(
        thread, int(member.member.id), data.comment, after
    )
    return texts.COMMENT_DELETED if deleted else texts.ONLY_OWN_COMMENTS, shown


async def _act(
    query: CallbackQuery,
    data: CommentAction,
    community: CommunityEntry,
    services: ServiceClients,
    member: MemberLookup,
    state: FSMContext,
    act: Act,
) -> None:
    """Do ``act`` for the member in the pressed thread, then re-render the page
    (the one the act's answer brought: no second call)."""
    # A report is weighed against the community's rules and the reporter's
    # approved confessions, which only the service counts.
    registered = await member(data.number, rules=act is _report, counted=act is _report)
    if registered.standing.banned and act is not _remove:
        await answer_query(query, texts.BANNED_FROM_ACTING, alert=True)
        return
    try:
        member_id, thread = await member_and_thread(member, community, data.number)
        notice, shown = await act(
            services, registered, thread, data, page_after(data.page, data.sort)
        )
        # The member's next views (another sort, 🔄) must show what they just
        # did, though the replica may not have replayed it yet.
        await mark_own_write(state)
    except ThreadNotFoundError:
        await unavailable(query, data.number)
        return
    except grpc.aio.AioRpcError as error:
        if not not_found(error):
            raise
        # After a refusal the thread is looked up again: it may have closed.
        try:
            member_id, thread = await member_and_thread(member, community, data.number, again=True)
        except ThreadNotFoundError:
            await unavailable(query, data.number)
            return
        notice, shown = texts.COMMENT_GONE, None
    # The page re-rendered shows the same thread: no second lookup.
    await refresh(
        query,
        services,
        member_id,
        thread,
        state,
        data.page,
        data.sort,
        notice,
        own_write=True,
        shown=shown,
    )


def _handler(act: Act, doc: str) -> Callable[..., Awaitable[None]]:
    """The press handler running ``act`` (one per button of a comment)."""

    async def handle(
        query: CallbackQuery,
        callback_data: CommentAction,
        community: CommunityEntry,
        services: ServiceClients,
        member: MemberLookup,
        state: FSMContext,
    ) -> None:
        await _act(query, callback_data, community, services, member, state, act)

    # Each its own name in the metrics' handler label: react, report, remove.
    handle.__name__ = handle.__qualname__ = act.__name__.removeprefix("_")
    handle.__doc__ = doc
    return handle


router.callback_query.register(
    _handler(_react, "👍 / 👎: set the reaction the button carries (a redelivery is harmless)."),
    Pressed(CommentAction, F.action.in_({CommentButton.UP, CommentButton.DOWN})),
)
router.callback_query.register(
    _handler(_report, "A reason under ⚠️: report the comment (once per member)."),
    Pressed(CommentAction, (F.action == CommentButton.REPORT) & F.value.in_(REASON_CODES)),
)
router.callback_query.register(
    _handler(_remove, "🗑 Delete one's own comment (allowed to a banned member too)."),
    Pressed(CommentAction, F.action == CommentButton.REMOVE),
)


@router.callback_query(Pressed(CommentAction, F.action == CommentButton.REPORT))
async def ask_report_reason(
    query: CallbackQuery, callback_data: CommentAction, member: MemberLookup
) -> None:
    """⚠️: the thread message's buttons become the reasons; nothing is filed yet."""
    if (await member(callback_data.number)).standing.banned:
        await answer_query(query, texts.BANNED_FROM_ACTING, alert=True)
        return
    await answer_query(query, texts.ASK_REPORT_REASON)
    data = callback_data
    if isinstance(query.message, Message):
        # Only the buttons change: the page's text stays as it is.
        await edit_message(
            query.message,
            None,
            report_reasons_keyboard(data.comment, data.number, data.page, data.sort),
        )


@router.callback_query(Pressed(Compose))
async def compose(
    query: CallbackQuery, callback_data: Compose, member: MemberLookup, state: FSMContext
) -> None:
    """➕ Comment or ↩️ Reply: ask for the text."""
    if (await member()).standing.banned:
        await answer_query(query, texts.BANNED_FROM_COMMENTING, alert=True)
        return
    await answer_query(query)
    if isinstance(query.message, Message):
        await reply(
            query.message,
            texts.write_comment(callback_data.number, reply=bool(callback_data.parent)),
        )
    # The prompt was shown first: a redelivered press asks again, nothing is lost.
    data = await state.get_data()
    await state.set_state(Commenting.writing)
    await state.set_data(
        {
            **data,
            "n": callback_data.number,
            "parent": callback_data.parent,
            "key": uuid.uuid4().hex[:16],
        }
    )


@router.message(StateFilter(Commenting.writing), Typed())
async def write(
    message: Message,
    community: CommunityEntry,
    services: ServiceClients,
    member: MemberLookup,
    state: FSMContext,
) -> None:
    """Store the comment and show the thread page it landed on."""
    text = (message.text or "").strip()
    if len(text) > COMMENT_MAX_LENGTH:
        await reply(message, texts.comment_too_long(len(text)))
        return
    data = await state.get_data()
    if "n" not in data:
        # Redis lost what the comment was for: the member opens the thread again.
        await reply(message, texts.COMMENT_BOX_GONE, reply_markup=MAIN_MENU)
        await state.clear()
        return
    number = int(data["n"])
    # The community's rules hold the comment (their card, or the service's).
    standing = (await member(number, rules=True)).standing
    if standing.banned:
        # Banned while writing: the comment is not stored.
        await reply(message, texts.BANNED_FROM_COMMENTING, reply_markup=MAIN_MENU)
        await state.set_state(None)
        return
    try:
        member_id, thread = await member_and_thread(member, community, number)
        # The same draft always stores the same comment, however often
        # Telegram delivers the message. The community's rules come with the
        # member (RegisterMember), Telegram's entities with the message.
        # Shadow-banned: stored, shown to them only (they are not told).
        added = await services.add_comment(
            thread,
            await member(number),
            int(data.get("parent", 0)),
            text,
            f"comment:{data['key']}",
            trimmed_entities(message.text or "", message.entities),
            shadow=standing.shadowed,
            # The page the comment landed on (the last), read after it.
            after=page_after(0, 0, last=True),
        )
    except ThreadNotFoundError:
        await reply(message, texts.thread_unavailable(number), reply_markup=MAIN_MENU)
        await state.set_state(None)
        return
    except grpc.aio.AioRpcError as error:
        refusal = member_refusal(error)
        if refusal is not None and error.code() == grpc.StatusCode.INVALID_ARGUMENT:
            # A community rule refused it (personal information, a filtered
            # word, the length): they are still writing, the same draft key kept.
            await reply(message, texts.comment_refused(refusal))
            return
        if not not_found(error):
            raise
        await reply(message, texts.PARENT_GONE, reply_markup=MAIN_MENU)
        await state.set_state(None)
        return
    await mark_own_write(state)
    last_page = thread_page.page_count(int(added.thread_count)) - 1
    rendered, markup = await render(
        services,
        member_id,
        thread,
        state,
        last_page,
        0,
        own_write=True,
        shown=answered_page(added),
    )
    await reply(message, rendered, reply_markup=markup)
    await state.set_state(None)
