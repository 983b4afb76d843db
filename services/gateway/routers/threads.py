"""Comment threads: the "💬 Comments" deep link, paging and sorting.

Every press re-renders the thread message from the services, so what a member
sees is always what is stored. Reads go to the replica, except for a member who
wrote a moment ago: for ``READ_OWN_SECONDS`` after a comment their views read
the primary, so they see it at once even when the replica lags. Comments and
reactions are routers/comment_actions.py's; they re-render through :func:`refresh`.
"""

from __future__ import annotations

import time

from aiogram.filters import Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from services.gateway.clients import ServiceClients
from services.gateway.filters import Pressed, PrivateChat
from services.gateway.member import MemberLookup
from services.gateway.registry import CommunityEntry
from services.gateway.replies import answer_query, edit_text, reply
from services.gateway.routing import FeatureRouter, Keys, command_keys
from services.gateway.service_types import Thread, ThreadNotFoundError, open_thread
from services.gateway.views import texts, thread_page
from veil.contracts.callbacks import ThreadView
from veil.v1.social_pb2 import ListCommentsResponse

router = FeatureRouter(name="threads")
# Member flows answer in the private chat only (routers/elsewhere.py points there).
router.message.filter(PrivateChat())
router.callback_query.filter(PrivateChat())

READ_OWN_SECONDS = 15.0


class ThreadLink(Filter):
    """``/start c_<N>``: passes the confession number to the handler."""

    def update_keys(self) -> Keys:
        """Only /start (services/gateway/routing.py)."""
        return command_keys(["start"])

    async def __call__(self, message: Message) -> bool | dict[str, int]:
        text = message.text or ""
        if not text.startswith("/start c_"):
            return False
        number = text.removeprefix("/start c_").strip()
        return {"number": int(number)} if number.isdigit() and len(number) < 18 else False


async def member_and_thread(
    member: MemberLookup, community: CommunityEntry, number: int, *, again: bool = False
) -> tuple[int, Thread]:
    """The member's id and thread ``number`` (one call for both); ThreadNotFoundError
    unless the thread is open."""
    registered = await member(number, again=again)
    if not registered.HasField("thread"):
        raise ThreadNotFoundError
    return int(registered.member.id), open_thread(community, number, registered.thread)


async def mark_own_write(state: FSMContext) -> None:
    """The member just wrote: their next views read the primary for a while."""
    await state.update_data(read_own_until=time.time() + READ_OWN_SECONDS)


async def _fresh(state: FSMContext) -> bool:
    """True while the member's own recent comment may not be on the replica yet."""
    return float((await state.get_data()).get("read_own_until", 0)) > time.time()


async def render(
    services: ServiceClients,
    member_id: int,
    thread: Thread,
    state: FSMContext,
    page: int,
    sort: int,
    *,
    own_write: bool = False,
    shown: ListCommentsResponse | None = None,
) -> tuple[str, InlineKeyboardMarkup]:
    """The thread message and its buttons, for page ``page`` in order ``sort``
    (``shown``: that page, when a write's answer brought it)."""
    # Right after the member's own reaction, report or deletion the page is read
    # from the primary: the replica may not have replayed that write yet.
    consistent = own_write or await _fresh(state)
    if shown is None:
        shown = await services.comments(thread, member_id, page, sort, consistent=consistent)
    if not shown.comments and page > 0:
        # The page emptied (deletions, hiding): show the last one that has comments.
        page = thread_page.page_count(shown.total) - 1
        shown = await services.comments(thread, member_id, page, sort, consistent=consistent)
    number = thread.context.confession_number
    return (
        thread_page.render(number, thread.text, shown, page, sort),
        thread_page.keyboard(number, shown, page, sort),
    )


@router.message(ThreadLink())
async def open_link(
    message: Message,
    number: int,
    community: CommunityEntry,
    services: ServiceClients,
    member: MemberLookup,
    state: FSMContext,
) -> None:
    """The "💬 Comments" deep link under a channel post."""
    try:
        member_id, thread = await member_and_thread(member, community, number)
    except ThreadNotFoundError:
        await reply(message, texts.thread_unavailable(number))
        return
    text, markup = await render(services, member_id, thread, state, 0, 0)
    await reply(message, text, reply_markup=markup)


@router.callback_query(Pressed(ThreadView))
async def view(
    query: CallbackQuery,
    callback_data: ThreadView,
    community: CommunityEntry,
    services: ServiceClients,
    member: MemberLookup,
    state: FSMContext,
) -> None:
    """⬅️ ➡️ pages, sort toggles and 🔄."""
    data = callback_data
    try:
        member_id, thread = await member_and_thread(member, community, data.number)
    except ThreadNotFoundError:
        await unavailable(query, data.number)
        return
    await refresh(query, services, member_id, thread, state, data.page, data.sort)


async def refresh(
    query: CallbackQuery,
    services: ServiceClients,
    member_id: int,
    thread: Thread,
    state: FSMContext,
    page: int,
    sort: int,
    notice: str | None = None,
    *,
    own_write: bool = False,
    shown: ListCommentsResponse | None = None,
) -> None:
    """Answer the press (with ``notice``) and re-render the pressed thread message
    (``shown``: the page, when a write's answer brought it)."""
    text, markup = await render(
        services, member_id, thread, state, page, sort, own_write=own_write, shown=shown
    )
    await answer_query(query, notice)
    if isinstance(query.message, Message):
        await edit_text(query.message, text, markup)


async def unavailable(query: CallbackQuery, number: int) -> None:
    """A press on a thread that is not open (any more): say so, and replace the
    stale message, which may still show a withdrawn confession, without buttons."""
    await answer_query(query, texts.thread_unavailable(number), alert=True)
    if isinstance(query.message, Message):
        await edit_text(query.message, texts.thread_unavailable(number))
