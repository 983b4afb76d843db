"""The gateway's dispatcher: every filter and handler a coroutine (aiogram runs a
synchronous one in a thread on every update it meets), and which handler takes
an update, whatever the order of the routers."""

from __future__ import annotations

import contextlib
from types import SimpleNamespace
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import Update

from services.gateway.dispatcher import build_dispatcher
from services.gateway.metrics import PROBE_KEY, UpdateProbe, install_handler_probe
from services.gateway.routers.comment_actions import Commenting
from services.gateway.routers.confess import Draft
from services.gateway.routers.conversations import Writing
from services.gateway.routing import FeatureRouter, handler_keys
from services.gateway.views import texts
from services.gateway.webhook_reply import ReplySlot, closing, opening
from veil.contracts.callbacks import (
    CommentAction,
    CommentButton,
    Compose,
    DraftAction,
    DraftButton,
    ThreadView,
)

USER = 1001
ADMIN_CHAT = -100_500


@pytest.fixture(scope="module")
def dispatcher() -> Dispatcher:
    # The routers are module objects: one dispatcher per process can hold them.
    built = build_dispatcher(MemoryStorage())
    install_handler_probe(built)
    return built


def _sync_callables(router: Router) -> list[str]:
    found = []
    for name, observer in router.observers.items():
        for handler in observer.handlers:
            callables = [handler, *(handler.filters or [])]
            found += [f"{router.name}.{name}: {c.callback!r}" for c in callables if not c.awaitable]
        found += [
            f"{router.name}.{name} (router filter): {f.callback!r}"
            for f in observer._handler.filters or []
            if not f.awaitable
        ]
    for sub in router.sub_routers:
        found += _sync_callables(sub)
    return found


def test_every_filter_and_handler_is_a_coroutine(dispatcher: Dispatcher) -> None:
    handlers = sum(
        len(observer.handlers) for r in dispatcher.chain_tail for observer in r.observers.values()
    )
    assert handlers > 20  # the walk did see Veil's routers
    assert _sync_callables(dispatcher) == []


def _message(update_id: int, **content: Any) -> Update:
    return Update.model_validate(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 1_700_000_000,
                "chat": {"id": USER, "type": "private", "first_name": "A"},
                "from": {"id": USER, "is_bot": False, "first_name": "A"},
                **content,
            },
        }
    )


def _command(length: int) -> dict[str, Any]:
    return {"type": "bot_command", "offset": 0, "length": length}


_STICKER = {
    "file_id": "s",
    "file_unique_id": "s",
    "type": "regular",
    "width": 1,
    "height": 1,
    "is_animated": False,
    "is_video": False,
}
_PHOTO = [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]


@pytest.mark.parametrize(
    ("state", "content", "handler"),
    [
        # While a confession is written: its text and photo are the draft's …
        (Draft.writing, {"text": "my secret"}, "confess.write"),
        (Draft.writing, {"photo": _PHOTO, "caption": "look"}, "confess.write_media"),
        (Draft.writing, {"sticker": _STICKER}, "confess.write_other"),
        # … but the menu's buttons and the commands still do what they do.
        (Draft.writing, {"text": texts.MY_CONFESSIONS}, "my.my_confessions"),
        (Draft.writing, {"text": texts.HELP}, "start.help_"),
        (Draft.writing, {"text": texts.WRITE_TO_ADMINS}, "conversations.begin"),
        (Draft.writing, {"text": texts.NEW_CONFESSION}, "confess.begin"),
        (Draft.writing, {"text": "/me", "entities": [_command(3)]}, "profile.me"),
        (Draft.writing, {"text": "/cancel", "entities": [_command(7)]}, "confess.cancel_command"),
        # The same while writing a comment or to the admins: typed text is
        # what is written, a menu button does what it says.
        (Commenting.writing, {"text": "nice one"}, "comment_actions.write"),
        (Commenting.writing, {"text": texts.NEW_CONFESSION}, "confess.begin"),
        (Commenting.writing, {"text": texts.MY_CONFESSIONS}, "my.my_confessions"),
        (Writing.message, {"text": "hello admins"}, "conversations.written"),
        (Writing.message, {"text": texts.HELP}, "start.help_"),
        (Writing.message, {"text": "/cancel", "entities": [_command(7)]}, "conversations.cancel"),
        (None, {"text": texts.NEW_CONFESSION}, "confess.begin"),
        (None, {"text": "hello"}, "fallback.unknown_message"),
        # Commands as aiogram reads them, past the routers' gates: the first
        # word of the text or the caption, its case as written.
        (None, {"text": "/start c_12"}, "threads.open_link"),
        (None, {"text": "/start"}, "start.start"),
        (None, {"text": "/help"}, "start.help_"),
        (None, {"text": "  /me and more"}, "profile.me"),
        (None, {"photo": _PHOTO, "caption": "/me"}, "profile.me"),
        (Draft.writing, {"photo": _PHOTO, "caption": "/me"}, "confess.write_media"),
        (None, {"text": "/ME"}, "fallback.unknown_message"),
    ],
)
async def test_which_handler_takes_a_members_message(
    dispatcher: Dispatcher, state: State | None, content: dict[str, Any], handler: str
) -> None:
    assert await _handler_of(dispatcher, _message(7, **content), state) == handler


@pytest.mark.parametrize(
    ("data", "handler"),
    [
        (ThreadView(number=5, page=1, sort=1).pack(), "threads.view"),
        (CommentAction(CommentButton.UP, 7, 5, 0, 1, value=1).pack(), "comment_actions.react"),
        (
            CommentAction(CommentButton.REPORT, 7, 5, 0, 1).pack(),
            "comment_actions.ask_report_reason",
        ),
        (Compose(number=5, parent=0).pack(), "comment_actions.compose"),
        (DraftAction(action=DraftButton.SEND, draft="abc").pack(), "confess.send_draft"),
        ("zz:1", "fallback.unknown_button"),
    ],
)
async def test_which_handler_takes_a_members_press(
    dispatcher: Dispatcher, data: str, handler: str
) -> None:
    press = Update.model_validate(
        {
            "update_id": 8,
            "callback_query": {
                "id": "8",
                "chat_instance": "x",
                "from": {"id": USER, "is_bot": False, "first_name": "A"},
                "data": data,
                "message": {
                    "message_id": 3,
                    "date": 1_700_000_000,
                    "chat": {"id": USER, "type": "private", "first_name": "A"},
                    "text": "a thread",
                },
            },
        }
    )
    assert await _handler_of(dispatcher, press, None) == handler


async def _handler_of(dispatcher: Dispatcher, update: Update, state: State | None) -> str | None:
    """The handler that took ``update`` from a member in ``state``."""
    # Nothing listens there: a handler's Bot API call fails and ends the update.
    session = AiohttpSession(api=TelegramAPIServer.from_base("http://127.0.0.1:9"))
    bot = Bot("123:abc", session=session)
    key = StorageKey(bot_id=bot.id, chat_id=USER, user_id=USER)
    await dispatcher.storage.set_state(key, state)
    probe = UpdateProbe()
    community = SimpleNamespace(id=1, admin_chat_id=ADMIN_CHAT, bot=bot)
    token = opening(ReplySlot())
    try:
        with contextlib.suppress(Exception):
            await dispatcher.feed_update(bot, update, community=community, **{PROBE_KEY: probe})
    finally:
        closing(token)
        await session.close()
    return probe.handler


def test_every_real_router_but_the_fallback_and_the_admin_replies_is_gated(
    dispatcher: Dispatcher,
) -> None:
    # services/gateway/routing.py: a router passes by what none of its handlers could take.
    (root,) = dispatcher.sub_routers
    open_to_all = {
        (router.name, kind)
        for router in root.sub_routers
        for kind in ("message", "callback_query")
        if not isinstance(router, FeatureRouter) or router.gate(kind) is None
    }
    # The fallback takes anything; an admin's reply in the admin chat is any text.
    assert open_to_all == {
        ("fallback", "message"),
        ("fallback", "callback_query"),
        ("conversations_admin", "message"),
    }
    for router in root.sub_routers:
        for handler in router.message.handlers:
            if (router.name, "message") not in open_to_all:
                assert handler_keys(handler) is not None


async def _handled_with_data(
    dispatcher: Dispatcher, update: Update, state: State, data: dict[str, Any]
) -> tuple[str | None, Any, str | None, dict[str, Any]]:
    """The handler that took ``update`` from a member in ``state`` with ``data``,
    the call its answer holds, and the member's state and data after it."""
    session = AiohttpSession(api=TelegramAPIServer.from_base("http://127.0.0.1:9"))
    bot = Bot("123:abc", session=session)
    key = StorageKey(bot_id=bot.id, chat_id=USER, user_id=USER)
    await dispatcher.storage.set_state(key, state)
    await dispatcher.storage.set_data(key, data)
    probe, slot = UpdateProbe(), ReplySlot()
    community = SimpleNamespace(id=1, admin_chat_id=ADMIN_CHAT, bot=bot)
    token = opening(slot)
    try:
        # No service is called before these handlers answer: none is there.
        await dispatcher.feed_update(
            bot, update, community=community, services=SimpleNamespace(), **{PROBE_KEY: probe}
        )
    finally:
        closing(token)
        await session.close()
    after = await dispatcher.storage.get_state(key), await dispatcher.storage.get_data(key)
    return probe.handler, slot.method, *after


async def test_a_text_while_writing_whose_draft_redis_lost_is_previewed(
    dispatcher: Dispatcher,
) -> None:
    """The state says "writing" but the draft's data is gone: the text becomes
    a draft of its own (a new id) and is previewed, not an error."""
    update = _message(9, text="my secret")
    handler, held, state, data = await _handled_with_data(dispatcher, update, Draft.writing, {})
    assert handler == "confess.write" and state == Draft.previewing.state
    assert data["text"] == "my secret" and len(data["draft"]) == 16
    send = held.reply_markup.inline_keyboard[0][0].callback_data
    assert DraftAction.unpack(send) == DraftAction(action=DraftButton.SEND, draft=data["draft"])


async def test_a_comment_whose_thread_redis_lost_is_not_sent_and_the_member_is_told(
    dispatcher: Dispatcher,
) -> None:
    update = _message(10, text="nice one")
    handler, held, state, data = await _handled_with_data(
        dispatcher, update, Commenting.writing, {}
    )
    assert handler == "comment_actions.write"
    assert held.text == texts.COMMENT_BOX_GONE and (state, data) == (None, {})
