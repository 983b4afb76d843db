"""Callback data: what the services pack, the gateway parses, within Telegram's 64 bytes.

Pure: no stack. The services' keyboards (the confessions service's card, the
social service's hidden-comment card) are parsed by the gateway's own filter,
and every button packs within the limit at the largest values its fields take.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiogram import F
from aiogram.types import CallbackQuery, User

from services.gateway.filters import Pressed
from services.gateway.views.keyboards import confession_report_keyboard, report_reasons_keyboard
from services.social.comment_rules import flagged_card_markup
from services.social.confession_reports import reported_card_markup
from services.social.domain import hidden_card_markup
from services.social.reporting import REASONS
from veil.contracts import callback_packing, callbacks
from veil.contracts.callback_packing import MAX_ID, MAX_PAGE
from veil.contracts.callbacks import (
    BACK,
    REPORT_REASONS,
    TYPE_OWN,
    CardButton,
    CommentAction,
    CommentButton,
    Compose,
    ConfessionReport,
    ConfessionVerdict,
    ConversationAction,
    ConversationButton,
    DraftAction,
    DraftButton,
    EraseButton,
    EraseChoice,
    HiddenAction,
    HiddenButton,
    ModAction,
    ModReason,
    NotificationsChoice,
    ReportReason,
    SafetyAction,
    SafetyButton,
    SafetyTarget,
    ThreadView,
    VerdictButton,
    admin_conversation_markup,
    card_markup,
    member_conversation_markup,
    report_reason,
)
from veil.contracts.lengths import CALLBACK_DATA_LIMIT


def _press(data: str, kind: type[callback_packing.Callback], rule: Any = None) -> Any:
    query = CallbackQuery(
        id="1", from_user=User(id=1, is_bot=False, first_name="A"), chat_instance="c", data=data
    )
    return asyncio.run(Pressed(kind, rule)(query))


def _buttons(markup: dict[str, Any]) -> list[dict[str, str]]:
    return [button for row in markup["inline_keyboard"] for button in row]


def test_the_card_the_confessions_service_sends_parses_in_the_gateway() -> None:
    buttons = _buttons(card_markup(MAX_ID))
    pressed = [_press(b["callback_data"], ModAction) for b in buttons[:4]]
    assert [p["callback_data"] for p in pressed] == [
        ModAction(CardButton.APPROVE, MAX_ID),
        ModAction(CardButton.REJECT, MAX_ID),
        ModAction(CardButton.REASON, MAX_ID),
        ModAction(CardButton.BAN, MAX_ID),
    ]
    # Its last row: ⚠️ Warn and 👻 Shadow-ban the confession's author.
    safety = [_press(b["callback_data"], SafetyAction)["callback_data"] for b in buttons[4:]]
    assert safety == [
        SafetyAction(SafetyButton.WARN, SafetyTarget.CONFESSION, MAX_ID),
        SafetyAction(SafetyButton.SHADOW, SafetyTarget.CONFESSION, MAX_ID),
    ]
    assert not _press(buttons[4]["callback_data"], ModAction)
    assert [b["callback_data"] for b in _buttons(card_markup(7))[4:]] == [
        "sf:warn:c:7",
        "sf:shadow:c:7",
    ]
    # The wire format the cards already in admin chats carry.
    assert _buttons(card_markup(7))[0]["callback_data"] == "mod:approve:7"


def test_the_hidden_comment_card_the_social_service_sends_parses_in_the_gateway() -> None:
    buttons = _buttons(hidden_card_markup(MAX_ID, MAX_ID))
    parsed = [_press(b["callback_data"], HiddenAction)["callback_data"] for b in buttons[:3]]
    assert [p.action for p in parsed] == [
        HiddenButton.RESTORE,
        HiddenButton.DELETE,
        HiddenButton.BAN,
    ]
    assert all(p.comment == MAX_ID and p.number == MAX_ID for p in parsed)
    # ⚠️ Warn the hidden comment's writer.
    warn = _press(buttons[3]["callback_data"], SafetyAction, F.action == SafetyButton.WARN)
    assert warn["callback_data"] == SafetyAction(
        SafetyButton.WARN, SafetyTarget.HIDDEN_COMMENT, MAX_ID
    )
    assert _buttons(hidden_card_markup(5, 12))[3]["callback_data"] == "sf:warn:h:5"
    assert _buttons(hidden_card_markup(5, 12))[2]["callback_data"] == "hc:ban:5:12"


def test_the_flagged_comment_card_the_social_service_sends_parses_in_the_gateway() -> None:
    buttons = _buttons(flagged_card_markup(MAX_ID, MAX_ID))
    parsed = [_press(b["callback_data"], HiddenAction)["callback_data"] for b in buttons[:3]]
    assert [p.action for p in parsed] == [
        HiddenButton.FLAG_KEEP,
        HiddenButton.FLAG_DELETE,
        HiddenButton.FLAG_BAN,
    ]
    assert all(p.comment == MAX_ID and p.number == MAX_ID for p in parsed)
    assert _buttons(flagged_card_markup(5, 12))[0]["callback_data"] == "hc:fkeep:5:12"
    # ⚠️ Warn names the comment's writer as on a hidden comment's card.
    assert _buttons(flagged_card_markup(5, 12))[3]["callback_data"] == "sf:warn:h:5"
    # A flagged card's button is not a hidden card's: the gateway tells them apart.
    data = HiddenAction(HiddenButton.FLAG_DELETE, 5, 12).pack()
    assert not _press(data, HiddenAction, F.action == HiddenButton.DELETE)


def test_the_reported_confession_card_the_social_service_sends_parses_in_the_gateway() -> None:
    buttons = _buttons(reported_card_markup(MAX_ID))
    parsed = [_press(b["callback_data"], ConfessionVerdict)["callback_data"] for b in buttons]
    assert parsed == [
        ConfessionVerdict(VerdictButton.TAKE_DOWN, MAX_ID),
        ConfessionVerdict(VerdictButton.KEEP, MAX_ID),
    ]
    assert [b["callback_data"] for b in _buttons(reported_card_markup(9))] == [
        "cf:down:9",
        "cf:keep:9",
    ]


def test_a_report_button_carries_its_reason_and_zero_asks_for_one() -> None:
    # Every reason the buttons offer is one the social service stores.
    assert set(REPORT_REASONS) == set(ReportReason) == set(REASONS)
    assert report_reason(0) is None and report_reason(len(REPORT_REASONS) + 1) is None
    # ⚠️ as a thread page shows it (value 0) asks; the picker's buttons each file one reason.
    ask = CommentAction(CommentButton.REPORT, 5, 7, page=2, sort=1)
    assert ask.pack() == "cm:rp:5:7:2:1:0"
    picker = _buttons(report_reasons_keyboard(5, 7, 2, 1).model_dump())
    picked = [_press(b["callback_data"], CommentAction) for b in picker[:-1]]
    assert [report_reason(p["callback_data"].value) for p in picked] == list(REPORT_REASONS)
    assert all(p["callback_data"].comment == 5 and p["callback_data"].page == 2 for p in picked)
    # ⬅️ Back returns to the page the report was started on.
    back = _press(picker[-1]["callback_data"], ThreadView)["callback_data"]
    assert back == ThreadView(7, 2, 1)
    # The same for a confession: 🚩 asks, each reason button names one.
    assert ConfessionReport(7).pack() == "cr:7:0"
    shown = _buttons(confession_report_keyboard(7).model_dump())
    reasons = [_press(b["callback_data"], ConfessionReport)["callback_data"] for b in shown]
    assert [report_reason(r.reason) for r in reasons] == list(REPORT_REASONS)


def test_the_conversation_buttons_the_confessions_service_sends_parse_in_the_gateway() -> None:
    admin = [b["callback_data"] for b in _buttons(admin_conversation_markup(MAX_ID))]
    closing = {ConversationButton.CLOSE, ConversationButton.BLOCK}
    assert [
        _press(data, ConversationAction, F.action.in_(closing))["callback_data"] for data in admin
    ] == [
        ConversationAction(ConversationButton.CLOSE, MAX_ID),
        ConversationAction(ConversationButton.BLOCK, MAX_ID),
    ]
    member = [b["callback_data"] for b in _buttons(member_conversation_markup())]
    assert member == ["cv:reply:0", "cv:end:0"]
    # The member's buttons never pass the admin side's rule.
    assert not any(_press(data, ConversationAction, F.action.in_(closing)) for data in member)
    assert not _press("cv:open:1", ConversationAction)
    assert not _press("sf:warn:x:1", SafetyAction)


def test_a_rule_picks_one_action_and_other_kinds_do_not_match() -> None:
    data = ModAction(CardButton.BAN, 3).pack()
    assert _press(data, ModAction, F.action == CardButton.BAN)
    assert not _press(data, ModAction, F.action == CardButton.APPROVE)
    assert not _press(data, ModReason)
    assert not _press(data, HiddenAction)


@pytest.mark.parametrize(
    "data",
    ["mod:approve", "mod:approve:1:2", "mod:nope:1", "mod:approve:x", "mod:approve:+1", "mod::1"],
)
def test_malformed_data_matches_nothing(data: str) -> None:
    assert not _press(data, ModAction)


# Every button at the largest values its fields can take.
LARGEST = [
    ModAction(CardButton.REASON, MAX_ID),
    ModReason(MAX_ID, TYPE_OWN),
    ModReason(MAX_ID, BACK),
    HiddenAction(HiddenButton.RESTORE, MAX_ID, MAX_ID),
    HiddenAction(HiddenButton.FLAG_DELETE, MAX_ID, MAX_ID),
    ConfessionVerdict(VerdictButton.TAKE_DOWN, MAX_ID),
    ThreadView(MAX_ID, MAX_PAGE, 2),
    CommentAction(CommentButton.DOWN, MAX_ID, MAX_ID, MAX_PAGE, 2, -1),
    CommentAction(CommentButton.REPORT, MAX_ID, MAX_ID, MAX_PAGE, 2, len(REPORT_REASONS)),
    Compose(MAX_ID, MAX_ID),
    ConfessionReport(MAX_ID, len(REPORT_REASONS)),
    DraftAction(DraftButton.CANCEL, "f" * 16),
    NotificationsChoice(1),
    EraseChoice(EraseButton.ERASE),
    SafetyAction(SafetyButton.SHADOW, SafetyTarget.HIDDEN_COMMENT, MAX_ID),
    ConversationAction(ConversationButton.BLOCK, MAX_ID),
]


@pytest.mark.parametrize("button", LARGEST, ids=lambda b: type(b).__name__)
def test_every_button_fits_64_bytes_and_round_trips(button: callback_packing.Callback) -> None:
    data = button.pack()
    assert len(data.encode()) <= CALLBACK_DATA_LIMIT
    assert type(button).unpack(data) == button


def test_every_button_kind_is_covered_and_prefixes_are_unique() -> None:
    kinds = {
        cls
        for cls in vars(callbacks).values()
        if isinstance(cls, type)
        and issubclass(cls, callback_packing.Callback)
        and cls is not callback_packing.Callback
    }
    assert kinds == {type(button) for button in LARGEST}
    assert len({kind.prefix for kind in kinds}) == len(kinds)


def test_pack_refuses_what_would_not_parse_back() -> None:
    with pytest.raises(ValueError):
        DraftAction(DraftButton.SEND, "a:b").pack()
    with pytest.raises(ValueError):
        DraftAction(DraftButton.SEND, "x" * 64).pack()
    # A bool is an int to Python but no number to the parser: refused, not packed as "True".
    with pytest.raises(TypeError):
        Compose(number=True, parent=0).pack()
