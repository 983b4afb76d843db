"""The callback data of every inline button, written once for who builds and who parses.

The confessions service builds the moderation card's buttons and the social
service the hidden-comment card's; the gateway builds the rest and parses
every press. Each button is one frozen dataclass here over
:class:`~veil.contracts.callback_packing.Callback` (the packing itself).

Every packed value fits Telegram's 64 bytes at the largest values its fields
can take (:data:`~veil.contracts.callback_packing.MAX_ID`,
:data:`~veil.contracts.callback_packing.MAX_PAGE`); ``pack()`` refuses anything over.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from veil.contracts.callback_packing import Callback

# -- the moderation card (built by the confessions service) -----------------


class CardButton(StrEnum):
    """The moderation card's buttons."""

    APPROVE = "approve"
    REJECT = "reject"
    REASON = "reason"  # show the community's reasons to pick from
    BAN = "ban"


@dataclass(frozen=True)
class ModAction(Callback):
    """A card button pressed on confession ``confession`` (its internal id)."""

    prefix: ClassVar[str] = "mod"
    action: CardButton
    confession: int


def card_markup(confession_id: int) -> dict[str, Any]:
    """The moderation card's keyboard (Bot API JSON).

    The confessions service sends it with the card; the gateway puts it back
    when an admin leaves the list of reasons.
    """

    def button(label: str, action: CardButton) -> dict[str, str]:
        return {"text": label, "callback_data": ModAction(action, confession_id).pack()}

    return {
        "inline_keyboard": [
            [button("✅ Approve", CardButton.APPROVE), button("❌ Reject", CardButton.REJECT)],
            [
                button("📝 Reject with reason", CardButton.REASON),
                button("🚫 Ban author", CardButton.BAN),
            ],
            [
                warn_button(SafetyTarget.CONFESSION, confession_id),
                shadow_button(SafetyTarget.CONFESSION, confession_id),
            ],
        ]
    }


# ModReason.reason values that are not an index into the community's reasons.
TYPE_OWN = -1
BACK = -2


@dataclass(frozen=True)
class ModReason(Callback):
    """A reject reason picked on a card: an index into the reasons, TYPE_OWN or BACK."""

    prefix: ClassVar[str] = "mr"
    confession: int
    reason: int


# -- a comment hidden by reports (its card built by the social service) -----


class HiddenButton(StrEnum):
    """The hidden comment's card's buttons, and those of a comment a rule flagged."""

    RESTORE = "restore"
    DELETE = "delete"
    BAN = "ban"  # delete, and ban the writer
    # A comment a community rule flagged (the word filter, personal
    # information): it may still be visible; keeping it changes nothing.
    FLAG_KEEP = "fkeep"
    FLAG_DELETE = "fdelete"
    FLAG_BAN = "fban"


# The buttons of a flagged comment's card.
FLAG_BUTTONS = frozenset({HiddenButton.FLAG_KEEP, HiddenButton.FLAG_DELETE, HiddenButton.FLAG_BAN})


@dataclass(frozen=True)
class HiddenAction(Callback):
    """An admin's decision on comment ``comment`` of thread ``number``
    (hidden by reports, or flagged by a rule: the social service sends both cards)."""

    prefix: ClassVar[str] = "hc"
    action: HiddenButton
    comment: int
    number: int


# -- a confession reported by members (its card built by the social service) --


class VerdictButton(StrEnum):
    """The reported confession's card's buttons."""

    TAKE_DOWN = "down"  # the confession and its channel post go
    KEEP = "keep"


@dataclass(frozen=True)
class ConfessionVerdict(Callback):
    """An admin's verdict on reported confession ``number``."""

    prefix: ClassVar[str] = "cf"
    action: VerdictButton
    number: int


# -- warns and shadow bans (buttons on both cards) ---------------------------


class SafetyButton(StrEnum):
    """⚠️ Warn / 👻 Shadow-ban on a moderation card or a hidden comment's card."""

    WARN = "warn"
    SHADOW = "shadow"


class SafetyTarget(StrEnum):
    """Whom a safety button names: a confession's author or a hidden comment's writer."""

    CONFESSION = "c"
    HIDDEN_COMMENT = "h"


@dataclass(frozen=True)
class SafetyAction(Callback):
    """A safety button on the card of ``target`` (a confession's or comment's internal id)."""

    prefix: ClassVar[str] = "sf"
    action: SafetyButton
    kind: SafetyTarget
    target: int


def warn_button(kind: SafetyTarget, target: int) -> dict[str, str]:
    """The ⚠️ Warn button (Bot API JSON) for a card."""
    return {"text": "⚠️ Warn", "callback_data": SafetyAction(SafetyButton.WARN, kind, target).pack()}


def shadow_button(kind: SafetyTarget, target: int) -> dict[str, str]:
    """The 👻 Shadow-ban button (Bot API JSON) for a card."""
    return {
        "text": "👻 Shadow-ban",
        "callback_data": SafetyAction(SafetyButton.SHADOW, kind, target).pack(),
    }


# -- conversations with the admins (built by the confessions service) --------


class ConversationButton(StrEnum):
    """Admin chat: close / block conversation N. Member's chat: reply / end."""

    CLOSE = "close"
    BLOCK = "block"
    REPLY = "reply"
    END = "end"


@dataclass(frozen=True)
class ConversationAction(Callback):
    """A conversation's button; ``conversation`` is its number (0 in the member's chat,
    where the member has one open conversation)."""

    prefix: ClassVar[str] = "cv"
    action: ConversationButton
    conversation: int


def admin_conversation_markup(conversation: int) -> dict[str, Any]:
    """✖️ Close / ⛔ Block under a member's message in the admin chat."""

    def button(label: str, action: ConversationButton) -> dict[str, str]:
        return {"text": label, "callback_data": ConversationAction(action, conversation).pack()}

    return {
        "inline_keyboard": [
            [
                button("✖️ Close", ConversationButton.CLOSE),
                button("⛔ Block", ConversationButton.BLOCK),
            ]
        ]
    }


def member_conversation_markup() -> dict[str, Any]:
    """↩️ Reply / ✖️ Close under the admins' answer in the member's chat."""

    def button(label: str, action: ConversationButton) -> dict[str, str]:
        return {"text": label, "callback_data": ConversationAction(action, 0).pack()}

    return {
        "inline_keyboard": [
            [button("↩️ Reply", ConversationButton.REPLY), button("✖️ Close", ConversationButton.END)]
        ]
    }


# -- threads (built and parsed by the gateway) ------------------------------


class ReportReason(StrEnum):
    """Why a member reports a comment or a confession (the social service stores the value)."""

    SPAM = "spam"
    HARASSMENT = "harassment"
    PERSONAL = "personal"  # personal information
    OTHER = "other"


# A report button carries its reason as a number: 0 asks for one, n is
# REPORT_REASONS[n - 1] (a name would not fit CommentAction's 64 bytes).
REPORT_REASONS: tuple[ReportReason, ...] = tuple(ReportReason)


def report_reason(code: int) -> ReportReason | None:
    """The reason a report button's number names; None for 0 (pick one) or unknown."""
    return REPORT_REASONS[code - 1] if 1 <= code <= len(REPORT_REASONS) else None


@dataclass(frozen=True)
class ThreadView(Callback):
    """Show page ``page`` of thread ``number`` in order ``sort`` (a ``CommentSort`` value)."""

    prefix: ClassVar[str] = "tv"
    number: int
    page: int
    sort: int


class CommentButton(StrEnum):
    """The buttons under one comment."""

    UP = "up"
    DOWN = "dn"
    REPORT = "rp"
    REMOVE = "rm"  # the member's own comment


@dataclass(frozen=True)
class CommentAction(Callback):
    """A button under comment ``comment``, remembering the page it was pressed on.

    ``value`` is the reaction 👍/👎 sets (1, -1, or 0 for none): the button
    carries the target, not "toggle", so a redelivered press changes nothing.
    On ⚠️ it is the report's reason (:func:`report_reason`): 0 shows the
    reasons, each of which is the same button with its number.
    """

    prefix: ClassVar[str] = "cm"
    action: CommentButton
    comment: int
    number: int
    page: int
    sort: int
    value: int = 0


@dataclass(frozen=True)
class Compose(Callback):
    """➕ Comment on thread ``number`` (``parent`` 0) or ↩️ reply to comment ``parent``."""

    prefix: ClassVar[str] = "cc"
    number: int
    parent: int


@dataclass(frozen=True)
class ConfessionReport(Callback):
    """🚩 Report the confession of thread ``number``; ``reason`` as on
    :class:`CommentAction`'s ⚠️ (0 asks for one)."""

    prefix: ClassVar[str] = "cr"
    number: int
    reason: int = 0


# -- the member's private chat (built and parsed by the gateway) ------------


class DraftButton(StrEnum):
    """The buttons under a confession's preview."""

    SEND = "send"
    EDIT = "edit"
    CANCEL = "cancel"


@dataclass(frozen=True)
class DraftAction(Callback):
    """A button under a preview; ``draft`` names the draft, so an old preview's
    button can never act on a newer draft."""

    prefix: ClassVar[str] = "d"
    action: DraftButton
    draft: str


@dataclass(frozen=True)
class NotificationsChoice(Callback):
    """/settings: turn optional notifications on (1) or off (0).

    The button carries the target value, not "toggle", so a redelivered press
    changes nothing.
    """

    prefix: ClassVar[str] = "ns"
    on: int


class EraseButton(StrEnum):
    """/deleteme's confirmation."""

    ERASE = "erase"
    KEEP = "keep"


@dataclass(frozen=True)
class EraseChoice(Callback):
    """/deleteme: erase (confirmed) or keep."""

    prefix: ClassVar[str] = "er"
    action: EraseButton
