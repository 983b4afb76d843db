"""Feature routers pass by what none of their handlers could take (services/gateway/routing.py).

The gate is sound when every filter it reads keys from matches only updates
that have one of its keys: then a router it passes by would have taken
nothing. That is checked here filter by filter against updates made to sit on
the edges (a command's casing, a bot mention, a caption, leading spaces, a
deep link); test_dispatcher_async.py checks which handler of the real routers
takes each kind of update, through the gates.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.handler import FilterObject
from aiogram.filters import Command, CommandStart, Filter, StateFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import CallbackQuery, Message, TelegramObject, Update, User

from services.gateway.filters import Pressed, TextIs
from services.gateway.routers.threads import ThreadLink
from services.gateway.routing import FeatureRouter, event_keys, filter_keys
from services.gateway.views import texts
from veil.contracts.callbacks import (
    CommentAction,
    CommentButton,
    DraftAction,
    DraftButton,
    ThreadView,
)

BOT = Bot("123:abc")
USER = 1001


class Form(StatesGroup):
    writing = State()
    other = State()


def _message(text: str | None = None, caption: str | None = None) -> Message:
    content: dict[str, Any] = {"text": text} if text is not None else {}
    if caption is not None:
        content = {
            "caption": caption,
            "photo": [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}],
        }
    return Message.model_validate(
        {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": USER, "type": "private"},
            "from": {"id": USER, "is_bot": False, "first_name": "A"},
            **content,
        }
    )


def _press(data: str | None) -> CallbackQuery:
    return CallbackQuery.model_validate(
        {
            "id": "1",
            "chat_instance": "x",
            "from": {"id": USER, "is_bot": False, "first_name": "A"},
            **({"data": data} if data is not None else {}),
        }
    )


MESSAGE_TEXTS = [
    "/me",
    "/ME",
    "/me@veil_bot",
    "  /me extra words",
    "/me\nsecond line",
    "/start",
    "/start c_12",
    "/start write",
    "/startx",
    "me",
    "!me",
    "/",
    "hello there",
    texts.NEW_CONFESSION,
    texts.HELP,
    "",
]
MESSAGES = [
    *(_message(text) for text in MESSAGE_TEXTS if text),
    _message(caption="/me"),
    _message(caption="a photo"),
    _message(),
]
STATES = [None, Form.writing.state, Form.other.state]

MESSAGE_FILTERS: list[Filter] = [
    Command("me"),
    Command("ME", ignore_case=True),
    Command("me", ignore_mention=True),
    Command("start", "help"),
    CommandStart(),
    CommandStart(deep_link=True),
    TextIs(texts.NEW_CONFESSION, texts.HELP),
    ThreadLink(),
]


async def _matches(flt: Filter, event: TelegramObject, raw_state: str | None) -> bool:
    if isinstance(flt, StateFilter):
        return bool(await flt(event, raw_state=raw_state))
    if isinstance(flt, Command):
        return bool(await flt(event, bot=BOT))  # type: ignore[arg-type]
    return bool(await flt(event))


def _keys_of(flt: Filter) -> frozenset[tuple[str, str | None]]:
    keys = filter_keys(FilterObject(flt))
    assert keys is not None, f"{flt!r} gives no keys"
    return keys


@pytest.fixture(autouse=True)
def _known_bot() -> None:
    # Command checks a mention against the bot's name, which getMe would give.
    BOT._me = User(id=123, is_bot=True, first_name="Veil", username="veil_bot")


@pytest.mark.parametrize("flt", MESSAGE_FILTERS, ids=str)
async def test_a_message_filter_matches_only_messages_with_one_of_its_keys(flt: Filter) -> None:
    keys = _keys_of(flt)
    matched = 0
    for message, state in itertools.product(MESSAGES, STATES):
        if await _matches(flt, message, state):
            matched += 1
            assert keys & set(event_keys(message, state)), (flt, message.text, message.caption)
    assert matched  # the catalogue holds messages this filter takes


@pytest.mark.parametrize(
    "flt",
    [StateFilter(Form.writing), StateFilter(None), StateFilter(Form.writing, "Form:other")],
    ids=str,
)
async def test_a_state_filter_matches_only_messages_in_one_of_its_states(flt: StateFilter) -> None:
    keys = _keys_of(flt)
    for message, state in itertools.product(MESSAGES, STATES):
        if await _matches(flt, message, state):
            assert keys & set(event_keys(message, state))
        else:
            assert not keys & {key for key in event_keys(message, state) if key[0] == "state"}


async def test_a_press_filter_matches_only_presses_of_its_prefix() -> None:
    presses = [
        _press(ThreadView(number=5, page=1, sort=1).pack()),
        _press(CommentAction(CommentButton.UP, 7, 5, 0, 1, value=1).pack()),
        _press(DraftAction(action=DraftButton.SEND, draft="abc").pack()),
        _press("tv"),
        _press("tvx:1:2:3"),
        _press("garbage"),
        _press(None),
    ]
    for kind in (ThreadView, CommentAction, DraftAction):
        flt = Pressed(kind)
        matched = 0
        for press in presses:
            if await _matches(flt, press, None):
                matched += 1
                assert _keys_of(flt) & set(event_keys(press, None))
        assert matched == 1


def test_keys_are_not_claimed_where_a_filter_may_match_anything() -> None:
    assert filter_keys(FilterObject(Command(re.compile("m.")))) is None
    assert filter_keys(FilterObject(Command("me", prefix="/!"))) is None
    assert filter_keys(FilterObject(StateFilter("*"))) is None
    assert filter_keys(FilterObject(StateFilter(Form))) is None


class _Counted(Filter):
    """A root filter that counts the updates it was asked about."""

    def __init__(self) -> None:
        self.asked = 0

    async def __call__(self, event: TelegramObject) -> bool:
        self.asked += 1
        return True


def _update(text: str) -> Update:
    return Update(update_id=1, message=_message(text))


async def _feed(router: FeatureRouter, text: str) -> Any:
    dispatcher = router.parent_router
    if dispatcher is None:
        dispatcher = Dispatcher(storage=MemoryStorage())
        dispatcher.include_router(router)
    assert isinstance(dispatcher, Dispatcher)
    return await dispatcher.feed_update(BOT, _update(text))


def _router_for_me(name: str) -> tuple[FeatureRouter, _Counted]:
    """A router taking /me, its root filter counting the updates it sees."""
    router = FeatureRouter(name=name)
    counted = _Counted()
    router.message.filter(counted)

    @router.message(Command("me"))
    async def me(message: Message) -> str:
        return "me"

    return router, counted


async def test_a_router_passes_by_what_no_handler_of_it_could_take() -> None:
    router, counted = _router_for_me("profile-like")
    assert await _feed(router, "/my") is UNHANDLED
    assert counted.asked == 0  # not even its root filter ran
    assert await _feed(router, "/me") == "me"
    assert counted.asked == 1


async def test_a_handler_without_keys_or_a_middleware_makes_the_router_take_part() -> None:
    router, counted = _router_for_me("late")
    assert await _feed(router, "hello") is UNHANDLED
    assert counted.asked == 0

    # Registered after the first update: the gate sees it.
    @router.message()
    async def anything(message: Message) -> str:
        return "anything"

    assert await _feed(router, "hello") == "anything"
    assert counted.asked == 1

    keyed = FeatureRouter(name="watched")

    @keyed.message(Command("me"))
    async def only_me(message: Message) -> str:
        return "me"

    seen: list[str] = []

    async def watch(handler: Any, event: TelegramObject, data: dict[str, Any]) -> Any:
        seen.append("watched")
        return await handler(event, data)

    keyed.message.outer_middleware(watch)
    assert await _feed(keyed, "hello") is UNHANDLED
    assert seen == ["watched"]  # an outer middleware runs as aiogram runs it


async def test_an_updates_keys_are_read_once_however_many_routers_ask(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import services.gateway.routing as routing

    read: list[str | None] = []

    def counted(event: TelegramObject, raw_state: str | None) -> tuple[Any, ...]:
        read.append(getattr(event, "text", None))
        return event_keys(event, raw_state)

    monkeypatch.setattr(routing, "event_keys", counted)
    dispatcher = Dispatcher(storage=MemoryStorage())
    for name in ("first", "second", "third"):
        router, _ = _router_for_me(f"asked-{name}")
        dispatcher.include_router(router)
    # All three routers are asked about /my and none takes it: its keys are
    # read once; the next update's are read anew.
    assert await dispatcher.feed_update(BOT, _update("/my")) is UNHANDLED
    assert read == ["/my"]
    assert await dispatcher.feed_update(BOT, _update("/me")) == "me"
    assert read == ["/my", "/me"]
