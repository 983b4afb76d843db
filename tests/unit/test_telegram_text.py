"""veil/core/telegram_text.py against the emulator's HTML parser (Telegram's rules)."""

from __future__ import annotations

import html
import random

from tools.telegram_emulator.html_text import parse_html
from tools.telegram_emulator.html_text import utf16_len as parsed_units
from veil.core.telegram_text import (
    _split,
    _tokens,
    alert_text,
    append_line,
    cut_escaped,
    cut_plain,
    fit_html,
    share,
    split_html,
    utf16_len,
    visible_len,
)

EMOJI = "😀"
SAMPLE = (
    "<b>#12</b>\nTom &amp; Jerry 😀 &lt;3 &#128512; & plain\n"
    '<blockquote>↩️ quoted 😀😀</blockquote>\n<a href="https://t.me/x?start=c_1">link</a>'
)


def _shown_units(source: str) -> int:
    """Units Telegram counts: parse the HTML (raises on HTML that does not parse)."""
    text, _ = parse_html(source)
    return parsed_units(text)


def test_visible_length_is_what_telegram_counts() -> None:
    assert utf16_len(EMOJI) == 2 and utf16_len("é") == 1
    assert visible_len(SAMPLE) == _shown_units(SAMPLE)
    assert visible_len("a &amp; b &foo; <i>c</i>") == len("a & b &foo; c")


def test_fit_html_cuts_to_the_budget_and_still_parses() -> None:
    for budget in range(1, visible_len(SAMPLE) + 2):
        fitted = fit_html(SAMPLE, budget)
        assert _shown_units(fitted) <= budget
    assert fit_html(SAMPLE, visible_len(SAMPLE)) == SAMPLE
    assert fit_html("<b>" + EMOJI * 10 + "</b>", 6) == f"<b>{EMOJI * 2}…</b>"
    card = "🆕 <b>#1</b>\n\n" + html.escape("x & y " * 1000)
    decided = append_line(card, "❌ Rejected by &lt;Ann&gt;", 1024)
    assert _shown_units(decided) <= 1024 and decided.endswith("\n\n❌ Rejected by &lt;Ann&gt;")


def test_member_text_is_cut_on_code_points_then_escaped() -> None:
    assert cut_plain(EMOJI * 3, 4) == EMOJI + "…"  # never half a surrogate pair
    assert cut_plain("short", 5) == "short" and cut_plain("", 0) == ""
    assert cut_escaped("a&b&c", 3) == "a&amp;…"  # cut first: no "&am" left behind
    alert = alert_text(EMOJI * 150)
    assert utf16_len(alert) == 199 and alert.endswith(EMOJI + "…")  # 200 would split an emoji
    assert alert_text("A &amp; B") == "A &amp; B"  # plain: nothing is unescaped or escaped


def test_split_html_pages_at_line_breaks_and_reopens_tags() -> None:
    lines = [f"<b>{i}</b> " + EMOJI * 300 for i in range(30)]
    chunks = split_html("\n".join(lines), 4096)
    assert len(chunks) > 1 and all(_shown_units(c) <= 4096 for c in chunks)
    assert "\n".join(chunks) == "\n".join(lines)  # broken only where a line ended
    long_line = "<i>" + "w" * 9000 + "</i>"
    pieces = split_html(long_line, 4096)
    assert all(_shown_units(p) <= 4096 and p.startswith("<i>") for p in pieces)
    assert sum(_shown_units(p) for p in pieces) == 9000


def test_share_cuts_the_longest_to_one_cap() -> None:
    assert share([10, 20], 100) == [10, 20]
    assert share([4000, 1000], 3700) == [2700, 1000]
    caps = share([2000] * 5 + [10], 3000)
    assert caps[-1] == 10 and len(set(caps[:5])) == 1 and sum(caps) <= 3000


# Pieces of HTML, well-formed or not, that the fast paths and the token walk
# must read alike.
_PIECES = [
    "<b>",
    "</b>",
    "<i>",
    "</i>",
    '<a href="https://t.me/x?a=1&b=2">',
    "</a>",
    "<blockquote>",
    "</blockquote>",
    "<b",
    "<",
    ">",
    "</",
    "&amp;",
    "&lt;",
    "&gt;",
    "&quot;",
    "&#128512;",
    "&#x1F600;",
    "&foo;",
    "&",
    "&amp",
    "x",
    "é",
    EMOJI,
    "\n",
    " ",
]


def test_the_fast_paths_read_html_as_the_token_walk_does() -> None:
    pick = random.Random(13)
    for _ in range(2000):
        source = "".join(pick.choice(_PIECES) for _ in range(pick.randint(0, 40)))
        walked = sum(token.units for token in _tokens(source))
        assert visible_len(source) == walked, source
        for limit in (walked, walked + 1):
            # It fits one message: the fast path, which must give the walk's chunks.
            assert split_html(source, limit) == _split(_tokens(source), limit), source
        assert fit_html(source, walked) == source
