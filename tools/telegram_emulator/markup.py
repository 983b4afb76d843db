"""Reply markup validation with Telegram's error descriptions."""

from __future__ import annotations

from typing import Any

from tools.telegram_emulator.errors import bad_request

_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "login_url",
    "web_app",
    "pay",
    "copy_text",
    "callback_game",
)
MAX_BUTTONS = 100


def _rows(markup: dict[str, Any], key: str) -> list[list[Any]]:
    rows = markup[key]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            f'can\'t parse reply keyboard markup JSON object: "{key}" must be an Array of Arrays'
        )
    if sum(len(row) for row in rows) > MAX_BUTTONS:
        raise bad_request("reply markup is too long")
    return rows


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if not button["text"]:
        raise bad_request("BUTTON_TEXT_EMPTY")
    actions = [key for key in _INLINE_ACTIONS if key in button]
    if len(actions) != 1:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://")):
            raise bad_request("BUTTON_URL_INVALID")


def validate_reply_markup(markup: Any) -> dict[str, Any] | None:
    """The markup as stored, or a ``BotApiError`` as Telegram raises it."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        for row in _rows(markup, "inline_keyboard"):
            for button in row:
                _check_inline_button(button)
    elif "keyboard" in markup:
        for row in _rows(markup, "keyboard"):
            for button in row:
                text = button if isinstance(button, str) else (button or {}).get("text")
                if not isinstance(text, str) or not text:
                    raise bad_request("keyboard button text is empty")
    elif not ({"remove_keyboard", "force_reply"} & markup.keys()):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def is_inline(markup: dict[str, Any] | None) -> bool:
    """Inline keyboards stay attached to the message; others configure the client."""
    return bool(markup) and "inline_keyboard" in (markup or {})


def button_data(markup: dict[str, Any] | None) -> list[str]:
    """Every callback_data on an inline keyboard, in the keyboard's order."""
    if not is_inline(markup):
        return []
    assert markup is not None
    return [
        button["callback_data"]
        for row in markup["inline_keyboard"]
        for button in row
        if "callback_data" in button
    ]


def callback_data_of(markup: dict[str, Any] | None) -> set[str]:
    """Every callback_data on an inline keyboard."""
    return set(button_data(markup))


def has_web_app_button(markup: dict[str, Any] | None) -> bool:
    """True when an inline keyboard has a ``web_app`` button (private chats only)."""
    if not is_inline(markup):
        return False
    assert markup is not None
    return any("web_app" in button for row in markup["inline_keyboard"] for button in row)
