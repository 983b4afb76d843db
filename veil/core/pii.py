"""The doxxing guard: personal information in a member's text, and what a community does with it.

Found two ways, merged: Telegram's own message entities (``phone_number``,
``email``, ``mention``, ``text_mention``, ``url``, ``text_link``; offsets in
UTF-16 code units) and patterns for what Telegram did not tag (phone numbers,
e-mail addresses, @handles). Pure and in-process: a comment is checked with
no round trip. Shared by the confessions service (confessions) and the social
service (comments), so both apply the same rule the same way.

A community's rule (``/settings pii``): ``flag`` (default) marks the admins'
card, ``redact`` replaces each match with "[removed]" before anyone sees it,
``reject`` refuses the text and says what to remove.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from veil.core.errors import MemberRefusal

ACTIONS = ("flag", "redact", "reject")
DEFAULT_ACTION = "flag"
REMOVED = "[removed]"

PHONE = "phone number"
EMAIL = "e-mail address"
MENTION = "@mention"
LINK = "link"

_ARTICLE = {PHONE: "a", EMAIL: "an", MENTION: "an", LINK: "a"}
# Telegram's entity types that are personal information, and what they are.
ENTITY_KINDS = {
    "phone_number": PHONE,
    "email": EMAIL,
    "mention": MENTION,
    "text_mention": MENTION,
    "url": LINK,
    "text_link": LINK,
}
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# A Telegram username: 5-32 characters, a letter first; not the tail of an e-mail.
_HANDLE = re.compile(r"(?<![\w@.])@[A-Za-z][A-Za-z0-9_]{4,31}(?![\w@])")
# Digits with the usual separators; 7 to 15 digits (E.164) make a phone number.
_PHONE = re.compile(r"(?<![\w#+])\+?\(?\d[\d\s().\-]{5,}\d(?![\w])")
# A date ("12.03.2024", "2024-03-12") has as many digits as a short number: not one.
_DATE = re.compile(r"\d{1,4}([./-])\d{1,2}\1\d{1,4}")


@dataclass(frozen=True)
class Found:
    """One piece of personal information: its kind and its span in the text (str indices)."""

    kind: str
    start: int
    end: int


def _str_index(text: str) -> list[int]:
    """UTF-16 offset → str index, for every offset up to the text's length."""
    index: list[int] = []
    for position, char in enumerate(text):
        index.append(position)
        if ord(char) > 0xFFFF:
            index.append(position)  # the low surrogate's offset: the same character
    index.append(len(text))
    return index


def _from_entities(text: str, entities: Iterable[tuple[str, int, int]]) -> list[Found]:
    index = _str_index(text)
    found = []
    for kind, offset, length in entities:
        what = ENTITY_KINDS.get(kind)
        if what is None or offset < 0 or length <= 0 or offset + length > len(index) - 1:
            continue
        found.append(Found(what, index[offset], index[offset + length]))
    return found


def _from_patterns(text: str) -> list[Found]:
    found = [Found(EMAIL, m.start(), m.end()) for m in _EMAIL.finditer(text)]
    found += [Found(MENTION, m.start(), m.end()) for m in _HANDLE.finditer(text)]
    for match in _PHONE.finditer(text):
        digits = sum(c.isdigit() for c in match.group())
        if 7 <= digits <= 15 and not _DATE.fullmatch(match.group().strip()):
            found.append(Found(PHONE, match.start(), match.end()))
    return found


def find(text: str, entities: Iterable[tuple[str, int, int]] = ()) -> list[Found]:
    """Personal information in ``text``, in order, overlaps merged (the first kind kept).

    ``entities``: Telegram's (type, offset, length) of this same text.
    """
    spans = sorted(
        _from_entities(text, entities) + _from_patterns(text), key=lambda f: (f.start, -f.end)
    )
    merged: list[Found] = []
    for span in spans:
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            merged[-1] = Found(last.kind, last.start, max(last.end, span.end))
        else:
            merged.append(span)
    return merged


def kinds(found: Iterable[Found]) -> list[str]:
    """The distinct kinds found, in order of first appearance."""
    seen: list[str] = []
    for item in found:
        if item.kind not in seen:
            seen.append(item.kind)
    return seen


def describe(found: Iterable[Found]) -> str:
    """ "a phone number and an @mention": what was found, for a card or a refusal."""
    named = [f"{_ARTICLE[kind]} {kind}" for kind in kinds(found)]
    if len(named) <= 1:
        return "".join(named)
    return ", ".join(named[:-1]) + " and " + named[-1]


def redact(text: str, found: Iterable[Found]) -> str:
    """``text`` with every match replaced by "[removed]"."""
    pieces = []
    position = 0
    for item in found:
        pieces.append(text[position : item.start])
        pieces.append(REMOVED)
        position = item.end
    pieces.append(text[position:])
    return "".join(pieces)


def flag_line(description: str) -> str:
    """The admins' card line for personal information left in (rule ``flag``)."""
    return f"⚠️ contains {description}"


def refusal(description: str, what: str) -> str:
    """What a member is told under rule ``reject``: what to remove (their draft stays)."""
    return (
        f"Your {what} contains {description}, which this community does not allow "
        "(it could identify someone). Please remove it and send it again."
    )


@dataclass(frozen=True)
class Checked:
    """A text after the community's rule: the text to store and the flag, if any."""

    text: str
    # What was found and left in (rule flag), e.g. "a phone number"; "" when nothing.
    flagged: str = ""


def apply(text: str, entities: Iterable[tuple[str, int, int]], action: str, what: str) -> Checked:
    """Apply rule ``action`` to ``text``; under reject, raises a fixable MemberRefusal
    that says what to remove (the member's draft stays)."""
    found = find(text, entities)
    if not found:
        return Checked(text)
    description = describe(found)
    if action == "reject":
        raise MemberRefusal(refusal(description, what), fixable=True)
    if action == "redact":
        return Checked(redact(text, found))
    return Checked(text, description)
