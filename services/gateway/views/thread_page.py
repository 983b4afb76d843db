"""Rendering of a thread page: the confession, its comments, and their buttons."""

from __future__ import annotations

from html import escape

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from services.gateway.views.buttons import press
from services.gateway.views.texts import REPORT_CONFESSION
from veil.contracts.callbacks import (
    CommentAction,
    CommentButton,
    Compose,
    ConfessionReport,
    ThreadView,
)
from veil.contracts.lengths import COMMENTS_PAGE_SIZE, MESSAGE_TEXT_LIMIT, QUOTE_LENGTH
from veil.core.telegram_text import cut_escaped, share, utf16_len, visible_len
from veil.v1 import social_pb2

SORT_LABELS = {
    social_pb2.COMMENT_SORT_OLDEST: "⏫ Oldest",
    social_pb2.COMMENT_SORT_NEWEST: "⏬ Newest",
    social_pb2.COMMENT_SORT_TOP: "🔥 Top",
}


def page_count(total: int) -> int:
    """Pages of a thread with ``total`` comments (one, empty, when there are none)."""
    return max(1, -(-total // COMMENTS_PAGE_SIZE))


def render(
    number: int, confession_text: str, page: social_pb2.ListCommentsResponse, p: int, s: int
) -> str:
    """The thread message: the confession, then this page's comments.

    The page always fits one message: when the confession and the comments do
    not, they share what is left after the rest of the page (long ones cut
    with "…", counted as Telegram counts).
    """
    texts = [confession_text, *(comment.text for comment in page.comments)]
    # Most pages fit whole: then the page as written is the answer, and only a
    # page that does not is measured without its texts to share the room.
    whole = _page(number, [escape(text) for text in texts], page, p, s)
    if visible_len(whole) <= MESSAGE_TEXT_LIMIT:
        return whole
    room = MESSAGE_TEXT_LIMIT - visible_len(_page(number, [""] * len(texts), page, p, s))
    caps = share([utf16_len(text) for text in texts], room)
    return _page(
        number, [cut_escaped(t, cap) for t, cap in zip(texts, caps, strict=True)], page, p, s
    )


def _page(
    number: int, shown: list[str], page: social_pb2.ListCommentsResponse, p: int, s: int
) -> str:
    """The page with ``shown``: the confession's and each comment's text, as HTML."""
    lines = [f"<b>#{number}</b>\n{shown[0]}", ""]
    if not page.comments:
        lines.append("No comments yet. Be the first!")
    else:
        sort = SORT_LABELS.get(social_pb2.CommentSort.ValueType(s), "")
        lines.append(
            f"💬 {page.total} comment{'s' if page.total != 1 else ''} · "
            f"{sort} · page {p + 1}/{page_count(page.total)}"
        )
    for index, (comment, text) in enumerate(zip(page.comments, shown[1:], strict=True), start=1):
        when = comment.created_at.ToDatetime().strftime("%d %b %H:%M")
        name = "✍️ Author" if comment.by_author else escape(comment.pseudonym)
        lines.append("")
        lines.append(f"<b>{index}. {name}</b> · {when}")
        if comment.parent_id:
            lines.append(
                f"<blockquote>↩️ {escape(comment.parent_pseudonym)}: "
                f"{cut_escaped(comment.parent_text, QUOTE_LENGTH)}</blockquote>"
            )
        lines.append(text)
        lines.append(f"👍 {comment.likes}  👎 {comment.dislikes}")
    return "\n".join(lines)


def _comment_row(
    number: int, index: int, comment: social_pb2.Comment, p: int, s: int
) -> list[InlineKeyboardButton]:
    """👍 👎 (each carrying the reaction it sets), ↩️, ⚠️, and 🗑 under one's own."""

    def act(action: CommentButton, value: int = 0) -> str:
        return CommentAction(
            action=action, comment=comment.id, number=number, page=p, sort=s, value=value
        ).pack()

    up = "✅👍" if comment.my_reaction == 1 else "👍"
    down = "✅👎" if comment.my_reaction == -1 else "👎"
    row = [
        press(
            f"{index}. {up} {comment.likes}",
            act(CommentButton.UP, 0 if comment.my_reaction == 1 else 1),
        ),
        press(
            f"{down} {comment.dislikes}",
            act(CommentButton.DOWN, 0 if comment.my_reaction == -1 else -1),
        ),
        press("↩️", Compose(number=number, parent=comment.id).pack()),
        press("⚠️", act(CommentButton.REPORT)),
    ]
    if comment.mine:
        row.append(press("🗑", act(CommentButton.REMOVE)))
    return row


def keyboard(
    number: int, page: social_pb2.ListCommentsResponse, p: int, s: int
) -> InlineKeyboardMarkup:
    """One row per comment (reactions, reply, report, delete), then paging and sorting."""

    def view(text: str, page_shown: int, sort: int) -> InlineKeyboardButton:
        return press(text, ThreadView(number=number, page=page_shown, sort=sort).pack())

    rows = [
        _comment_row(number, index, comment, p, s)
        for index, comment in enumerate(page.comments, start=1)
    ]
    nav: list[InlineKeyboardButton] = []
    if p > 0:
        nav.append(view("⬅️", p - 1, s))
    if p + 1 < page_count(page.total):
        nav.append(view("➡️", p + 1, s))
    if nav:
        rows.append(nav)
    rows.append(
        [view(("• " if code == s else "") + label, 0, code) for code, label in SORT_LABELS.items()]
    )
    rows.append([press("➕ Comment", Compose(number=number, parent=0).pack()), view("🔄", p, s)])
    rows.append([press(REPORT_CONFESSION, ConfessionReport(number=number).pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)
