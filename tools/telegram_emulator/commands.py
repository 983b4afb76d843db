"""setMyCommands, getMyCommands and deleteMyCommands, one list per scope and language.

Telegram keeps a separate list for every (scope, language) pair and
``getMyCommands`` answers the list of exactly the pair asked for (an empty list
when none was set); which list a client shows is the client's business.
"""

from __future__ import annotations

import re
from typing import Any

from tools.telegram_emulator.errors import bad_request
from tools.telegram_emulator.model import BotState, CommandScope
from tools.telegram_emulator.params import Params
from tools.telegram_emulator.state import Emulator

MAX_COMMANDS = 100
MAX_DESCRIPTION = 256
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE = re.compile(r"([a-z]{2})?")
_WIDE_SCOPES = ("default", "all_private_chats", "all_group_chats", "all_chat_administrators")
_CHAT_SCOPES = ("chat", "chat_administrators", "chat_member")


def _scope(bot: BotState, params: Params) -> CommandScope:
    """The (scope type, chat id, user id, language) a call names; default scope if none."""
    scope = params.obj("scope", "BotCommandScope") or {"type": "default"}
    if not isinstance(scope, dict):
        raise bad_request("can't parse BotCommandScope JSON object")
    kind = scope.get("type")
    language = params.text("language_code") or ""
    if not _LANGUAGE.fullmatch(language):
        raise bad_request("invalid language code specified")
    if kind in _WIDE_SCOPES:
        return (str(kind), None, None, language)
    if kind not in _CHAT_SCOPES:
        raise bad_request("unsupported bot command scope type")
    chat = bot.chat(scope.get("chat_id"))
    if kind != "chat" and chat.type == "private":
        raise bad_request("can't use the scope in a private chat")
    user_id = None
    if kind == "chat_member":
        try:
            user_id = int(scope["user_id"])
        except (KeyError, TypeError, ValueError):
            raise bad_request("user not found") from None
    return (str(kind), chat.id, user_id, language)


def set_my_commands(em: Emulator, bot: BotState, params: Params) -> bool:
    """setMyCommands: replaces the list of one scope (an empty list removes it)."""
    commands = params.obj("commands", "bot commands")
    if not isinstance(commands, list) or len(commands) > MAX_COMMANDS:
        raise bad_request("commands must be an array of at most 100 bot commands")
    kept: list[dict[str, Any]] = []
    for command in commands:
        if not isinstance(command, dict):
            raise bad_request("can't parse BotCommand JSON object")
        name, description = command.get("command", ""), command.get("description", "")
        if not isinstance(name, str) or not _COMMAND.fullmatch(name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description) <= MAX_DESCRIPTION:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        kept.append({"command": name, "description": description})
    key = _scope(bot, params)
    if kept:
        bot.commands[key] = kept
    else:
        bot.commands.pop(key, None)
    return True


def get_my_commands(em: Emulator, bot: BotState, params: Params) -> list[dict[str, Any]]:
    """getMyCommands: the list of exactly that scope and language."""
    return list(bot.commands.get(_scope(bot, params), []))


def delete_my_commands(em: Emulator, bot: BotState, params: Params) -> bool:
    """deleteMyCommands: removes the list of one scope."""
    bot.commands.pop(_scope(bot, params), None)
    return True
