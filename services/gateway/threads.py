"""Rendering of a thread page: the confession, five comments, and their buttons."""

from __future__ import annotations

from html import escape

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from services.gateway.registry import CommunityEntry
from veil.core.telegram_text import MESSAGE_TEXT_LIMIT, cut_escaped, share, utf16_len, visible_len
from veil.v1 import confessions_pb2, social_pb2

PAGE_SIZE = 5
SORT_LABELS = {0: "⏫ Oldest", 1: "⏬ Newest", 2: "🔥 Top"}
QUOTE_LENGTH = 80


# A thread is open while its confession is approved or published.
OPEN_STATUSES = frozenset(
    {confessions_pb2.CONFESSION_STATUS_APPROVED, confessions_pb2.CONFESSION_STATUS_PUBLISHED}
)


def open_thread_context(
    community: CommunityEntry, number: int, found: confessions_pb2.GetConfessionResponse
) -> social_pb2.ThreadContext | None:
    """Where thread ``number`` lives, for the social service; None unless it is open."""
    if found.confession.status not in OPEN_STATUSES:
        return None
    return social_pb2.ThreadContext(
        community_id=community.id,
        confession_id=found.confession.id,
        confession_number=number,
        author_member_id=found.author_member_id,
        channel_chat_id=community.channel_chat_id,
        channel_message_id=found.channel_message_id,
        admin_chat_id=community.admin_chat_id,
        bot_username=community.bot_username,
    )


class ThreadView(CallbackData, prefix="tv"):
    """Show page ``p`` of thread ``n`` in order ``s`` (0 oldest, 1 newest, 2 top)."""

    n: int
    p: int
    s: int


class CommentAction(CallbackData, prefix="cm"):
    """A button under one comment, remembering the page it was pressed on.

    ``a``: ``up``/``dn`` set the presser's reaction to ``v`` (the gateway turns a
    second 👍 into "none", so a redelivered press changes nothing), ``re`` reply,
    ``rp`` report, ``rm`` delete (own comment).
    """

    a: str
    c: int
    n: int
    p: int
    s: int
    v: int = 0


class Compose(CallbackData, prefix="cc"):
    """➕ Comment on thread ``n`` (``parent`` 0) or ↩️ reply to comment ``parent``."""

    n: int
    parent: int


class HiddenAction(CallbackData, prefix="hc"):
    """An admin's decision on a comment hidden by reports (sent by the social service)."""

    action: str
    comment: int
    number: int


class ConfessionReport(CallbackData, prefix="cr"):
    """🚩 Report confession ``n`` (``v`` 0: pick a reason; 1-4: the reason picked)."""

    n: int
    v: int = 0


class ConfessionVerdict(CallbackData, prefix="cf"):
    """An admin's verdict on a reported confession: ``down`` (take down) or ``keep``
    (sent by the social service as ``cf:<action>:<N>``)."""

    action: str
    number: int


def _quote(text: str) -> str:
    return cut_escaped(text, QUOTE_LENGTH)


def render(
    number: int, confession_text: str, page: social_pb2.ListCommentsResponse, p: int, s: int
) -> str:
    """The thread message: the confession, then this page's comments.

    The page always fits one message: when the confession and the comments do
    not, they share what is left after the rest of the page (long ones cut
    with "…", counted as Telegram counts).
    """
    texts = [confession_text, *(comment.text for comment in page.comments)]
    room = MESSAGE_TEXT_LIMIT - visible_len(_page(number, [""] * len(texts), page, p, s))
    caps = share([utf16_len(text) for text in texts], room)
    return _page(
        number, [cut_escaped(t, cap) for t, cap in zip(texts, caps, strict=True)], page, p, s
    )


def _page(
    number: int, shown: list[str], page: social_pb2.ListCommentsResponse, p: int, s: int
) -> str:
    """The page with ``shown``: the confession's and each comment's text, as HTML."""
    pages = max(1, -(-page.total // PAGE_SIZE))
    lines = [f"<b>#{number}</b>\n{shown[0]}", ""]
    if not page.comments:
        lines.append("No comments yet. Be the first!")
    else:
        lines.append(
            f"💬 {page.total} comment{'s' if page.total != 1 else ''} · "
            f"{SORT_LABELS.get(s, '')} · page {p + 1}/{pages}"
        )
    for index, (comment, text) in enumerate(zip(page.comments, shown[1:], strict=True), start=1):
        when = comment.created_at.ToDatetime().strftime("%d %b %H:%M")
        name = "✍️ Author" if comment.by_author else escape(comment.pseudonym)
        lines.append("")
        lines.append(f"<b>{index}. {name}</b> · {when}")
        if comment.parent_id:
            lines.append(
                f"<blockquote>↩️ {escape(comment.parent_pseudonym)}: "
                f"{_quote(comment.parent_text)}</blockquote>"
            )
        lines.append(text)
        lines.append(f"👍 {comment.likes}  👎 {comment.dislikes}")
    return "\n".join(lines)


def keyboard(
    number: int, page: social_pb2.ListCommentsResponse, p: int, s: int
) -> InlineKeyboardMarkup:
    """One row per comment (reactions, reply, report, delete), then paging and sorting."""
    rows: list[list[InlineKeyboardButton]] = []
    for index, comment in enumerate(page.comments, start=1):

        def act(a: str, v: int = 0, c: int = comment.id) -> str:
            return CommentAction(a=a, c=c, n=number, p=p, s=s, v=v).pack()

        up = "✅👍" if comment.my_reaction == 1 else "👍"
        down = "✅👎" if comment.my_reaction == -1 else "👎"
        row = [
            InlineKeyboardButton(
                text=f"{index}. {up} {comment.likes}",
                callback_data=act("up", 0 if comment.my_reaction == 1 else 1),
            ),
            InlineKeyboardButton(
                text=f"{down} {comment.dislikes}",
                callback_data=act("dn", 0 if comment.my_reaction == -1 else -1),
            ),
            InlineKeyboardButton(
                text="↩️", callback_data=Compose(n=number, parent=comment.id).pack()
            ),
            InlineKeyboardButton(text="⚠️", callback_data=act("rp")),
        ]
        if comment.mine:
            row.append(InlineKeyboardButton(text="🗑", callback_data=act("rm")))
        rows.append(row)
    pages = max(1, -(-page.total // PAGE_SIZE))
    nav: list[InlineKeyboardButton] = []
    if p > 0:
        nav.append(
            InlineKeyboardButton(text="⬅️", callback_data=ThreadView(n=number, p=p - 1, s=s).pack())
        )
    if p + 1 < pages:
        nav.append(
            InlineKeyboardButton(text="➡️", callback_data=ThreadView(n=number, p=p + 1, s=s).pack())
        )
    if nav:
        rows.append(nav)
    rows.append(
        [
            InlineKeyboardButton(
                text=("• " if code == s else "") + label,
                callback_data=ThreadView(n=number, p=0, s=code).pack(),
            )
            for code, label in SORT_LABELS.items()
        ]
    )
    rows.append(
        [
            InlineKeyboardButton(
                text="➕ Comment", callback_data=Compose(n=number, parent=0).pack()
            ),
            InlineKeyboardButton(text="🔄", callback_data=ThreadView(n=number, p=p, s=s).pack()),
        ]
    )
    rows.append(
        [
            InlineKeyboardButton(
                text="🚩 Report confession", callback_data=ConfessionReport(n=number).pack()
            )
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)
