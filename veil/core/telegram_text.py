"""Fitting text into Telegram's limits (one home for gateway and services).

The limits themselves live in :mod:`veil.contracts.lengths`.

Telegram counts a message's length in UTF-16 code units of the text a member
sees, after ``parse_mode=HTML`` is parsed: tags count nothing, ``&amp;``
counts 1, an emoji outside the Basic Multilingual Plane counts 2. Every
message Veil sends is held to these limits here, never by ``len()`` of the
HTML source, so emoji-heavy text cannot push a message past the limit.

Member text is cut first and escaped after (so no ``&amp;`` is cut in half),
on a code-point boundary (so no surrogate pair is split), with "…".
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from veil.contracts.lengths import CALLBACK_ANSWER_LIMIT, MESSAGE_TEXT_LIMIT

ELLIPSIS = "…"

# A tag as Telegram's HTML parser sees one: from "<" to the next ">".
_TAG = re.compile(r"<(/?)([^\s<>/=]*)[^>]*>")
# The character references Telegram decodes; any other "&" is kept as written.
_REFERENCE = re.compile(r"&(#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6}|lt|gt|amp|quot);")
# Either of the two, as one left-to-right scan finds them.
_MARKUP = re.compile(f"{_TAG.pattern}|{_REFERENCE.pattern}")


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, Telegram's unit of length."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class _Token:
    """A piece of HTML: a tag (no visible length) or one visible character."""

    raw: str
    units: int
    tag: str = ""
    closing: bool = False


def _tokens(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(source):
        char = source[i]
        if char == "<":
            tag = _TAG.match(source, i)
            if tag is not None:
                name = tag.group(2).lower()
                tokens.append(_Token(tag.group(0), 0, name, bool(tag.group(1))))
                i = tag.end()
                continue
        elif char == "&":
            reference = _REFERENCE.match(source, i)
            if reference is not None:
                shown = html.unescape(reference.group(0))
                tokens.append(_Token(reference.group(0), utf16_len(shown)))
                i = reference.end()
                continue
        tokens.append(_Token(char, utf16_len(char)))
        i += 1
    return tokens


def _shown(markup: re.Match[str]) -> str:
    raw = markup.group(0)
    return "" if raw[0] == "<" else html.unescape(raw)


def visible_len(source: str) -> int:
    """The length Telegram counts for ``source`` sent with ``parse_mode=HTML``.

    One regex pass and one encode, not :func:`_tokens`' object per character:
    every reply is measured, and a thread page runs to thousands of characters.
    The same tags and references as ``_tokens`` (one alternation, scanned left
    to right as it scans), so the two always agree.
    """
    if "<" in source or "&" in source:
        source = _MARKUP.sub(_shown, source)
    return utf16_len(source)


def cut_plain(text: str, budget: int) -> str:
    """``text`` (plain) cut to at most ``budget`` UTF-16 units, ending in "…" when cut."""
    if utf16_len(text) <= budget:
        return text
    room = budget - utf16_len(ELLIPSIS)
    kept: list[str] = []
    used = 0
    for char in text:
        width = utf16_len(char)
        if used + width > room:
            break
        kept.append(char)
        used += width
    return "".join(kept) + ELLIPSIS if budget > 0 else ""


def cut_escaped(text: str, budget: int) -> str:
    """Member text for an HTML message: cut to ``budget`` visible units, then escaped."""
    return html.escape(cut_plain(text, budget))


def alert_text(text: str) -> str:
    """An answerCallbackQuery text: plain (shown as written), at most 200 units."""
    return cut_plain(text, CALLBACK_ANSWER_LIMIT)


def _closing(stack: Sequence[_Token]) -> str:
    return "".join(f"</{token.tag}>" for token in reversed(stack))


def _replay(stack: list[_Token], tokens: Sequence[_Token]) -> list[_Token]:
    """The tags still open after ``tokens``, starting from ``stack``."""
    opened = list(stack)
    for token in tokens:
        if token.tag and token.closing:
            if opened and opened[-1].tag == token.tag:
                opened.pop()
        elif token.tag:
            opened.append(token)
    return opened


def fit_html(source: str, budget: int) -> str:
    """``source`` (HTML) cut to ``budget`` visible units: "…" added, open tags closed."""
    if visible_len(source) <= budget:
        return source
    tokens = _tokens(source)
    room = budget - utf16_len(ELLIPSIS)
    kept: list[_Token] = []
    used = 0
    for token in tokens:
        if used + token.units > room:
            break
        kept.append(token)
        used += token.units
    head = "".join(token.raw for token in kept)
    return head + ELLIPSIS + _closing(_replay([], kept))


def append_line(source: str, line: str, limit: int = MESSAGE_TEXT_LIMIT) -> str:
    """``source`` then a blank line and ``line`` (both HTML), ``source`` cut to fit ``limit``."""
    tail = f"\n\n{line}"
    return fit_html(source, max(0, limit - visible_len(tail))) + tail


def split_html(source: str, limit: int = MESSAGE_TEXT_LIMIT) -> list[str]:
    """``source`` as messages of at most ``limit`` visible units each.

    Breaks at the last line break that fits (mid-line only for a line longer
    than a message); tags open at a break are closed and opened again.
    """
    if visible_len(source) <= limit:
        # One message (nearly every reply): only the tags are replayed, to close
        # any left open as the cutting path does.
        opened = _replay(
            [],
            [
                _Token(t.group(0), 0, t.group(2).lower(), bool(t.group(1)))
                for t in _TAG.finditer(source)
            ],
        )
        chunk = source + _closing(opened)
        return [chunk] if _has_text(chunk) else []
    return _split(_tokens(source), limit)


def _has_text(chunk: str) -> bool:
    return bool(html.unescape(re.sub(_TAG, "", chunk)).strip())


def _split(tokens: list[_Token], limit: int) -> list[str]:
    """:func:`split_html` of a source longer than one message, token by token."""
    chunks: list[str] = []
    stack: list[_Token] = []
    current: list[_Token] = []
    used = 0

    def flush(head: list[_Token]) -> None:
        nonlocal stack
        after = _replay(stack, head)
        chunk = "".join(t.raw for t in stack) + "".join(t.raw for t in head) + _closing(after)
        if _has_text(chunk):
            chunks.append(chunk)
        stack = after

    for token in tokens:
        while current and used + token.units > limit:
            breaks = [i for i, t in enumerate(current) if t.raw == "\n"]
            cut = breaks[-1] if breaks else len(current)
            flush(current[:cut])
            current = current[cut + 1 :]
            used = sum(t.units for t in current)
        current.append(token)
        used += token.units
    flush(current)
    return chunks


def share(lengths: Sequence[int], budget: int) -> list[int]:
    """How much of each piece fits when ``budget`` units are shared fairly.

    Short pieces keep their length; the long ones are cut to one common cap
    (the largest that fits), so no single piece crowds out the others.
    """
    if sum(lengths) <= budget:
        return list(lengths)
    budget = max(0, budget)
    remaining, left = budget, len(lengths)
    cap = 0
    for length in sorted(lengths):
        fair = remaining // left
        if length > fair:
            cap = fair
            break
        remaining -= length
        left -= 1
    return [min(length, cap) for length in lengths]
