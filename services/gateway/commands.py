"""The bot's commands: one list for private chats, one for the admin chat.

The same lists fill Telegram's "/" menu (``setMyCommands``) and the help
texts, so what the menu offers is what the bot answers. Members' commands
answer in the private chat only; the admin chat answers the admins' only.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

MEMBER_COMMANDS: tuple[tuple[str, str], ...] = (
    ("confess", "write a new confession"),
    ("my", "your confessions and their status"),
    ("me", "your profile and impact points"),
    ("settings", "notifications on or off"),
    ("write", "write to the admins (appeals and questions)"),
    ("deleteme", "erase all your data"),
    ("cancel", "stop what you are doing"),
    ("help", "how Veil works"),
)

ADMIN_COMMANDS: tuple[tuple[str, str], ...] = (
    ("ban", "ban the author of #N or a pseudonym: /ban #12 [7d] [reason]"),
    ("unban", "lift a ban: /unban #12 or /unban Misty Heron 417"),
    ("bans", "the bans and warns in force"),
    ("warn", "warn the author of #N or a pseudonym: /warn #12 [reason]"),
    ("unwarn", "remove a warn: /unwarn w7"),
    ("shadowban", "ban without telling: /shadowban #12 [7d] [reason]"),
    ("unblock", "let a blocked conversation write again: /unblock Guest 17"),
    ("settings", "show the community's rules, or change one"),
    ("cancel", "stop typing a reject reason"),
    ("help", "the admin commands"),
)

# Commands a member may send: /start opens the bot, the rest are listed.
MEMBER_COMMAND_NAMES = frozenset({"start", *(name for name, _ in MEMBER_COMMANDS)})


def command_lines(commands: tuple[tuple[str, str], ...]) -> str:
    """One "/name — what it does" line per command."""
    return "\n".join(f"/{name} — {description}" for name, description in commands)


def _bot_commands(commands: tuple[tuple[str, str], ...]) -> list[BotCommand]:
    return [BotCommand(command=name, description=description) for name, description in commands]


async def publish_commands(
    bot: Bot, admin_chat_id: int, previous_admin_chat_id: int | None
) -> None:
    """Set the "/" menus: members' in every private chat, admins' in the admin chat.

    Called when a community is new to this gateway or its admin chat changed;
    the old admin chat's menu is removed last (the bot may have left it).
    """
    await bot.set_my_commands(
        _bot_commands(MEMBER_COMMANDS), scope=BotCommandScopeAllPrivateChats()
    )
    await bot.set_my_commands(
        _bot_commands(ADMIN_COMMANDS), scope=BotCommandScopeChat(chat_id=admin_chat_id)
    )
    if previous_admin_chat_id is not None and previous_admin_chat_id != admin_chat_id:
        await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id=previous_admin_chat_id))
