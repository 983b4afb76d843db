"""The community's rules applied to a comment, in-process (no round trip).

The confessions service owns the rules; the gateway gets them with the
member and thread it resolves anyway (RegisterMember's comment_rules) and
passes them on in AddComment. What applies to a confession applies here:

* the length (the smaller of the service's comment limit and ``maxlen``);
* the word filter, unless the community turned it off for comments
  (``/settings commentfilter off``): reject refuses with the word named, flag
  lets the comment through and sends the admins a card;
* personal information (``veil.core.pii``, ``/settings pii``): flag (a card),
  redact ("[removed]" before anyone sees it) or reject (says what to remove).
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from veil.contracts.callbacks import HiddenAction, HiddenButton, SafetyTarget, warn_button
from veil.contracts.lengths import MESSAGE_TEXT_LIMIT
from veil.core import pii
from veil.core.errors import MemberRefusal
from veil.core.telegram_text import cut_escaped, visible_len
from veil.core.word_filter import filtered_word
from veil.v1 import common_pb2
from veil.v1 import social_pb2 as pb

WORD_SHOWN = 60


@dataclass(frozen=True)
class CheckedComment:
    """The text to store and what the admins' card flags ("" when nothing)."""

    text: str
    flagged: str = ""


def check(
    text: str,
    entities: Iterable[common_pb2.TextEntity],
    rules: common_pb2.CommentRules,
    service_max: int,
) -> CheckedComment:
    """Apply the community's rules to a comment's text (as sent, with its entities).

    Raises a fixable MemberRefusal (the member's message) when a rule refuses it.
    """
    guarded = pii.apply(
        text,
        ((e.type, e.offset, e.length) for e in entities),
        rules.pii_action or pii.DEFAULT_ACTION,
        "comment",
    )
    cleaned = guarded.text.strip()
    limit = min(service_max, rules.max_length or service_max)
    # Characters as the gateway counts a comment's (its 1,000 is the same number).
    if not 1 <= len(cleaned) <= limit:
        raise MemberRefusal(
            f"A comment holds 1 to {limit} characters here; please shorten it.", fixable=True
        )
    flags = [pii.flag_line(guarded.flagged)] if guarded.flagged else []
    if rules.filter_comments:
        word = filtered_word(cleaned, rules.filter_words)
        if word is not None and rules.filter_action == "reject":
            raise MemberRefusal(
                f"Your comment contains “{word}”, which this community does not allow. "
                "Please rephrase it.",
                fixable=True,
            )
        if word is not None:
            flags.append(f"⚠️ Flagged: contains “{word[:WORD_SHOWN]}”")
    return CheckedComment(cleaned, "\n".join(flags))


def flagged_card(thread: pb.ThreadContext, pseudonym: str, text: str, flagged: str) -> str:
    """The admins' card of a comment a rule flagged (no member identity)."""
    head = (
        f"🚩 A comment on confession #{thread.confession_number} was flagged.\n"
        f"{html.escape(flagged)}\n\n<b>{html.escape(pseudonym)}</b>: "
    )
    room = MESSAGE_TEXT_LIMIT - visible_len(head) - 100
    return head + cut_escaped(text, room)


def flagged_card_markup(comment_id: int, number: int) -> dict[str, Any]:
    """Keep / Delete / Delete and ban, and ⚠️ Warn as on a hidden comment's card
    (see veil/contracts/callbacks.py)."""

    def button(label: str, action: HiddenButton) -> dict[str, str]:
        return {"text": label, "callback_data": HiddenAction(action, comment_id, number).pack()}

    return {
        "inline_keyboard": [
            [
                button("✔️ Keep", HiddenButton.FLAG_KEEP),
                button("🗑 Delete", HiddenButton.FLAG_DELETE),
            ],
            [button("🚫 Delete and ban", HiddenButton.FLAG_BAN)],
            [warn_button(SafetyTarget.HIDDEN_COMMENT, comment_id)],
        ]
    }
