"""Telegram's ``parse_mode=HTML``: the tags it accepts and the errors it gives.

``parse_html`` turns the text a bot sent into the plain text a member sees
plus message entities (offsets in UTF-16 code units, as in the Bot API), or
raises ``BotApiError`` with Telegram's "can't parse entities" description.
``clean_text`` then tidies text and entities the way Telegram's server does
before it stores a message.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from tools.telegram_emulator.errors import BotApiError, bad_request

_ENTITY_OF_TAG = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_TAG_NAME = re.compile(r"[^\s<>/=]*")
_ATTRIBUTE = re.compile(r"""\s*([A-Za-z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
_CHAR_REFERENCE = re.compile(r"&(#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6}|lt|gt|amp|quot);")


# Dropped from sent text by Telegram (tdlib's fix_formatted_text): carriage
# returns, line/paragraph separators and bidi overrides, combining vertical lines.
_DROPPED = frozenset("\r\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u0333\u033f\u030a")
# What Telegram trims at either end and does not count as content.
_BLANK = " \n"


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Bot API entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def clean_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Text and entities as Telegram stores them, after its server-side clean-up.

    Like tdlib's ``fix_formatted_text``: control characters other than a line
    feed become spaces, ``\r`` and a few invisible characters are dropped,
    entities covering only blanks are dropped, and spaces and line feeds are
    trimmed at the end and at the start (up to the first entity). So a bot
    that sends ``"Hi\n\n"`` reads back ``"Hi"``, as on Telegram.
    """
    # new_at[u]: the UTF-16 position in the cleaned text of original position u.
    new_at: list[int] = []
    kept: list[str] = []
    position = 0
    for char in text:
        width = utf16_len(char)
        new_at.extend([position] * width)
        if char in _DROPPED:
            continue
        kept.append(" " if ord(char) < 32 and char != "\n" else char)
        position += width
    new_at.append(position)
    cleaned = "".join(kept)
    units = cleaned.encode("utf-16-le")

    def blank(start: int, end: int) -> bool:
        return not units[2 * start : 2 * end].decode("utf-16-le").strip(_BLANK)

    spans: list[dict[str, Any]] = []
    for entity in sorted(entities, key=lambda e: (e["offset"], -e["length"])):
        first = min(max(int(entity["offset"]), 0), len(new_at) - 1)
        last = min(max(int(entity["offset"]) + int(entity["length"]), 0), len(new_at) - 1)
        start, end = new_at[first], new_at[last]
        if end > start and not blank(start, end):
            spans.append({**entity, "offset": start, "length": end - start})

    trimmed_end = utf16_len(cleaned.rstrip(_BLANK))
    for span in spans:
        span["length"] = min(span["offset"] + span["length"], trimmed_end) - span["offset"]
    first_entity = spans[0]["offset"] if spans else trimmed_end
    lead = 0
    while lead < first_entity and cleaned[lead] in _BLANK:
        lead += 1
    for span in spans:
        span["offset"] -= lead
    # Leading blanks are one UTF-16 unit each, so ``lead`` also counts characters.
    return cleaned[lead:].rstrip(_BLANK), spans


@dataclass
class _Open:
    name: str
    offset: int
    attributes: dict[str, str]


@dataclass
class _Parser:
    source: str
    pieces: list[str] = field(default_factory=list)
    length: int = 0
    stack: list[_Open] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)

    def fail(self, detail: str) -> BotApiError:
        return bad_request(f"can't parse entities: {detail}")

    def byte_offset(self, index: int) -> int:
        return len(self.source[:index].encode())

    def emit(self, text: str) -> None:
        self.pieces.append(text)
        self.length += utf16_len(text)

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        source, i = self.source, 0
        while i < len(source):
            char = source[i]
            if char == "<":
                i = self.tag(i)
            elif char == "&":
                match = _CHAR_REFERENCE.match(source, i)
                if match:
                    self.emit(html.unescape(match.group(0)))
                    i = match.end()
                else:
                    # Telegram keeps an "&" that starts no entity as it is.
                    self.emit("&")
                    i += 1
            else:
                end = i
                while end < len(source) and source[end] not in "<&":
                    end += 1
                self.emit(source[i:end])
                i = end
        if self.stack:
            raise self.fail(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.pieces), self.entities

    def tag(self, start: int) -> int:
        source = self.source
        closing = source.startswith("</", start)
        name_at = start + (2 if closing else 1)
        match = _TAG_NAME.match(source, name_at)
        name = match.group(0).lower() if match else ""
        if name not in _ENTITY_OF_TAG:
            kind = "end" if closing else "start"
            raise self.fail(
                f'Unsupported {kind} tag "{name}" at byte offset {self.byte_offset(start)}'
            )
        close = source.find(">", name_at)
        if close == -1:
            raise self.fail(f"Can't find end of the tag at byte offset {self.byte_offset(start)}")
        if closing:
            self.end_tag(name, start)
        else:
            self.start_tag(name, source[name_at + len(name) : close], start)
        return close + 1

    def start_tag(self, name: str, raw_attributes: str, start: int) -> None:
        attributes = {
            m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or ""
            for m in _ATTRIBUTE.finditer(raw_attributes)
            if m.group(1)
        }
        where = f"at byte offset {self.byte_offset(start)}"
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise self.fail(f'Tag "span" must have class "tg-spoiler" {where}')
        if name == "tg-emoji" and "emoji-id" not in attributes:
            raise self.fail(f'Tag "tg-emoji" must have attribute "emoji-id" {where}')
        self.stack.append(_Open(name, self.length, attributes))

    def end_tag(self, name: str, start: int) -> None:
        where = f"at byte offset {self.byte_offset(start)}"
        if not self.stack:
            raise self.fail(f"Unexpected end tag {where}")
        opened = self.stack.pop()
        if opened.name != name:
            raise self.fail(
                f'Unmatched end tag {where}, expected "</{opened.name}>", found "</{name}>"'
            )
        length = self.length - opened.offset
        if length == 0:
            return
        entity: dict[str, Any] = {
            "type": _ENTITY_OF_TAG[name],
            "offset": opened.offset,
            "length": length,
        }
        if name == "a":
            href = html.unescape(opened.attributes.get("href", ""))
            user = re.fullmatch(r"tg://user\?id=(\d+)", href)
            if user:
                entity = {**entity, "type": "text_mention", "user": {"id": int(user.group(1))}}
            elif href:
                entity["url"] = href
            else:
                return
        elif name == "tg-emoji":
            entity["custom_emoji_id"] = opened.attributes["emoji-id"]
        elif name == "blockquote" and "expandable" in opened.attributes:
            entity["type"] = "expandable_blockquote"
        elif name == "code" and self.stack and self.stack[-1].name == "pre":
            language = opened.attributes.get("class", "").removeprefix("language-")
            if language:
                self.stack[-1].attributes["language"] = language
            return
        elif name == "pre" and opened.attributes.get("language"):
            entity["language"] = opened.attributes["language"]
        self.entities.append(entity)


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities of ``source``; raises Telegram's parse error."""
    return _Parser(source).run()
