"""A thread page always fits one Telegram message, and its buttons fit Telegram's limit.

Checked against the emulator's HTML parser, which counts what Telegram counts (UTF-16
units of the text after parsing) and refuses HTML that does not parse.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from services.gateway.views.thread_page import keyboard, render
from tools.telegram_emulator.html_text import parse_html, utf16_len
from veil.contracts.lengths import COMMENTS_PAGE_SIZE as PAGE_SIZE
from veil.contracts.lengths import MESSAGE_TEXT_LIMIT
from veil.v1 import social_pb2

# The largest ids and counts a page can show: 64-bit ids, 6-digit numbers.
BIG = 2**63 - 1
WHEN = Timestamp()
WHEN.FromDatetime(datetime(2026, 1, 2, 3, 4, tzinfo=UTC))


def _page(text: str, n: int, total: int) -> social_pb2.ListCommentsResponse:
    comments = [
        social_pb2.Comment(
            id=BIG - i,
            parent_id=BIG if i % 2 else 0,
            pseudonym="Misty <Heron> & 417",
            text=text,
            likes=999_999,
            dislikes=999_999,
            created_at=WHEN,
            mine=i == 0,
            my_reaction=(1, -1, 0)[i % 3],
            parent_pseudonym="Bold & Owl 1",
            parent_text=text,
            by_author=i == 1,
        )
        for i in range(n)
    ]
    return social_pb2.ListCommentsResponse(comments=comments, total=total)


@pytest.mark.parametrize(
    "text",
    [
        "short",
        "😀" * 4000,  # 8,000 UTF-16 units per text
        "&<>\"' " * 700,  # escaped: five times longer as HTML than it shows
        "x" * 4000,
    ],
)
@pytest.mark.parametrize("comments", [0, 1, PAGE_SIZE])
def test_a_page_fits_one_message_and_parses(text: str, comments: int) -> None:
    page = _page(text, comments, total=comments * 200_000)
    html = render(999_999, text, page, 199_999, 2)
    shown, _ = parse_html(html)
    assert utf16_len(shown) <= MESSAGE_TEXT_LIMIT
    assert "#999999" in shown
    # Every comment's name is shown (the author's as "Author"), escaped right.
    by_author = 1 if comments > 1 else 0
    assert shown.count("Misty <Heron> & 417") == comments - by_author
    assert shown.count("✍️ Author") == by_author


def test_a_short_page_is_shown_whole() -> None:
    page = _page("a kind word", PAGE_SIZE, total=PAGE_SIZE)
    shown, _ = parse_html(render(7, "my confession", page, 0, 0))
    assert "my confession" in shown
    replies = sum(1 for c in page.comments if c.parent_id)
    assert shown.count("a kind word") == PAGE_SIZE + replies  # each comment, each quote
    assert "…" not in shown


@pytest.mark.parametrize("sort", [0, 1, 2])
def test_every_button_fits_telegrams_64_bytes(sort: int) -> None:
    page = _page("x", PAGE_SIZE, total=BIG)
    markup = keyboard(999_999_999, page, 1_000_000, sort)
    data = [b.callback_data for row in markup.inline_keyboard for b in row if b.callback_data]
    assert len(data) >= PAGE_SIZE * 4
    for packed in data:
        assert len(packed.encode()) <= 64, packed


def test_a_page_exactly_one_message_long_is_whole_and_one_unit_more_is_cut() -> None:
    page = _page("a kind word", PAGE_SIZE, total=PAGE_SIZE)
    base = utf16_len(parse_html(render(7, "", page, 0, 0))[0])
    fits = "😀" * ((MESSAGE_TEXT_LIMIT - base) // 2) + "x" * ((MESSAGE_TEXT_LIMIT - base) % 2)
    shown, _ = parse_html(render(7, fits, page, 0, 0))
    assert utf16_len(shown) == MESSAGE_TEXT_LIMIT
    assert fits in shown and "…" not in shown
    shown, _ = parse_html(render(7, fits + "&", page, 0, 0))
    assert utf16_len(shown) <= MESSAGE_TEXT_LIMIT
    assert shown.count("…") == 1 and "a kind word" in shown
