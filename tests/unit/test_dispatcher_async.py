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
from services.gateway.views import texts
from services.gateway.webhook_reply import ReplySlot, closing, opening

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
    ],
)
async def test_which_handler_takes_a_members_message(
    dispatcher: Dispatcher, state: State | None, content: dict[str, Any], handler: str
) -> None:
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
            await dispatcher.feed_update(
                bot, _message(7, **content), community=community, **{PROBE_KEY: probe}
            )
    finally:
        closing(token)
        await session.close()
    assert probe.handler == handler
