"""The webhook's parse leaves out only what no handler reads."""

from __future__ import annotations

import copy
from typing import Any

from aiogram.types import Update

from services.gateway.webhook import without_unread_parts

_MESSAGE = {
    "message_id": 7,
    "date": 1_700_000_000,
    "chat": {"id": 1001, "type": "private", "first_name": "A"},
    "from": {"id": 42, "is_bot": True, "first_name": "bot"},
    "text": "#12 Comments",
    "entities": [{"type": "bold", "offset": 0, "length": 3}],
    "reply_markup": {"inline_keyboard": [[{"text": "👍 3", "callback_data": "r:12:1:1"}]]},
}


def _press() -> dict[str, Any]:
    return {
        "update_id": 5,
        "callback_query": {
            "id": "99",
            "from": {"id": 1001, "is_bot": False, "first_name": "A"},
            "chat_instance": "x",
            "data": "r:12:1:1",
            "message": copy.deepcopy(_MESSAGE),
        },
    }


def test_a_press_keeps_its_data_and_the_message_text_but_not_the_keyboard() -> None:
    update = Update.model_validate(without_unread_parts(_press()))
    query = update.callback_query
    assert query is not None and query.data == "r:12:1:1"
    assert query.message is not None and query.message.message_id == 7
    message = query.message
    assert message.text == "#12 Comments"  # type: ignore[union-attr]
    # Neither the keyboard nor the formatting is read: both are left out.
    assert message.reply_markup is None  # type: ignore[union-attr]
    assert message.entities is None  # type: ignore[union-attr]


def test_a_pressed_media_message_keeps_its_caption() -> None:
    """Whether the pressed message has a caption decides how it is edited."""
    press = _press()
    pressed = press["callback_query"]["message"]
    del pressed["text"], pressed["entities"]
    pressed |= {
        "photo": [{"file_id": "p", "file_unique_id": "u", "width": 1, "height": 1}],
        "caption": "a preview",
        "caption_entities": [{"type": "italic", "offset": 0, "length": 1}],
    }
    message = Update.model_validate(without_unread_parts(press)).callback_query.message  # type: ignore[union-attr]
    assert message.caption == "a preview"  # type: ignore[union-attr]
    assert message.caption_entities is None  # type: ignore[union-attr]


def test_other_updates_are_left_whole() -> None:
    message = {"update_id": 6, "message": copy.deepcopy(_MESSAGE)}
    assert without_unread_parts(copy.deepcopy(message)) == message
    # A press without its message (too old for Telegram to send) is fine too.
    bare = _press()
    del bare["callback_query"]["message"]
    assert without_unread_parts(copy.deepcopy(bare)) == bare
