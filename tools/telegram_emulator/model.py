"""What the emulated Telegram knows: bots, users, chats and their messages.

Each bot sees its own world, as on Telegram: its private chats, the groups and
channels it was added to, and message ids numbered per chat.
"""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from tools.telegram_emulator.errors import BotApiError, bad_request, forbidden, unauthorized

MAX_RECORDED_CALLS = 20_000
# Per-update delivery records kept per bot (the oldest are forgotten first).
MAX_RECORDED_DELIVERIES = 200_000
# Updates kept for /redeliver and callback queries kept for answerCallbackQuery:
# the newest this many per bot, so a long run (make chaos) keeps bounded memory.
MAX_KEPT_UPDATES = 20_000
# (scope type, chat id, user id, language code) of a command list.
CommandScope = tuple[str, int | None, int | None, str]


def now() -> int:
    """Unix time, Telegram's ``date``."""
    return int(time.time())


@dataclass
class User:
    """A Telegram account."""

    id: int
    first_name: str = "User"
    username: str | None = None
    is_bot: bool = False

    def to_api(self) -> dict[str, Any]:
        """The Bot API ``User`` object."""
        user: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        if not self.is_bot:
            user["language_code"] = "en"
        return user


@dataclass
class Message:
    """A message as stored: what was sent (``html``) and what is shown (``text``)."""

    message_id: int
    chat: Chat
    date: int
    from_bot: bool
    sender: User | None = None
    sender_chat: Chat | None = None
    text: str | None = None
    html: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    media: dict[str, Any] | None = None
    reply_markup: dict[str, Any] | None = None
    reply_to_message_id: int | None = None
    forward_origin: dict[str, Any] | None = None
    edit_date: int | None = None
    deleted: bool = False

    def to_api(self, *, with_reply: bool = True) -> dict[str, Any]:
        """The Bot API ``Message`` object."""
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "date": self.date,
            "chat": self.chat.to_api(),
        }
        if self.sender is not None:
            message["from"] = self.sender.to_api()
        if self.sender_chat is not None:
            message["sender_chat"] = self.sender_chat.to_api()
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        if self.forward_origin is not None:
            message["forward_origin"] = self.forward_origin
        if self.text is not None:
            message["text"] = self.text
            if self.entities:
                message["entities"] = self.entities
        if self.media is not None:
            message[self.media["type"]] = self.media["object"]
            if self.caption is not None:
                message["caption"] = self.caption
                if self.caption_entities:
                    message["caption_entities"] = self.caption_entities
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            message["reply_markup"] = self.reply_markup
        if with_reply and self.reply_to_message_id is not None:
            replied = self.chat.messages.get(self.reply_to_message_id)
            if replied is not None and not replied.deleted:
                message["reply_to_message"] = replied.to_api(with_reply=False)
        return message

    def to_record(self) -> dict[str, Any]:
        """The control API's view: the API object plus what the bot sent raw."""
        return {
            "message_id": self.message_id,
            "date": self.date,
            "from_bot": self.from_bot,
            "from": self.sender.to_api() if self.sender else None,
            "text": self.text,
            "html": self.html,
            "entities": self.entities,
            "caption": self.caption,
            "media": self.media,
            "reply_markup": self.reply_markup,
            "reply_to_message_id": self.reply_to_message_id,
            "forward_origin": self.forward_origin,
            "edit_date": self.edit_date,
            "deleted": self.deleted,
        }


@dataclass
class MessageCounter:
    """A sequence of message ids (the next one to give)."""

    next: int = 1


@dataclass
class Chat:
    """A chat as one bot sees it."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    admins: set[int] = field(default_factory=set)
    members: set[int] = field(default_factory=set)
    bot_is_admin: bool = False
    bot_is_member: bool = True
    # Restricted users: user id → is_member (a restricted user may have left).
    restricted: dict[int, bool] = field(default_factory=dict)
    started: bool = False
    blocked: bool = False
    messages: dict[int, Message] = field(default_factory=dict)
    next_message_id: int = 1
    # Private chats and basic groups number their messages from the bot account's
    # own counter, shared by all of them (only supergroups and channels count per
    # chat), as on Telegram: a bot's ids in one private chat have gaps.
    account_ids: MessageCounter | None = None

    def to_api(self) -> dict[str, Any]:
        """The Bot API ``Chat`` object."""
        chat: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.type == "private":
            chat["first_name"] = self.first_name or "User"
        else:
            chat["title"] = self.title or str(self.id)
        if self.username:
            chat["username"] = self.username
        return chat

    def add(self, message: Message) -> Message:
        """Store a message (its id was taken with ``take_id``)."""
        self.messages[message.message_id] = message
        return message

    def take_id(self) -> int:
        """The next message id of this chat."""
        if self.account_ids is not None:
            message_id = self.account_ids.next
            self.account_ids.next += 1
            return message_id
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def require_writable(self, bot: BotState) -> None:
        """Raise what Telegram answers when this bot may not post here."""
        if self.type == "private":
            if self.blocked:
                raise forbidden("bot was blocked by the user")
            if not self.started:
                raise forbidden("bot can't initiate conversation with a user")
        elif not self.bot_is_member:
            raise forbidden(f"bot is not a member of the {self.type} chat")
        elif self.type == "channel" and not self.bot_is_admin:
            raise bad_request("need administrator rights in the channel chat")

    def find(self, message_id: int, missing: str) -> Message:
        """A live message of this chat, or Telegram's "not found" error."""
        message = self.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request(missing)
        return message


@dataclass
class Webhook:
    """A bot's webhook and what Telegram reports about it."""

    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str]
    last_error_date: int | None = None
    last_error_message: str | None = None

    def wants(self, update: dict[str, Any]) -> bool:
        """Telegram only sends the update types the webhook asked for."""
        kind = next(key for key in update if key != "update_id")
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in {"chat_member", "message_reaction", "message_reaction_count"}


@dataclass
class CallbackQuery:
    """A button press waiting for (or given) its answer."""

    id: str
    user_id: int
    answer: dict[str, Any] | None = None


@dataclass
class BotState:
    """One bot: its token, webhook, chats, updates and the calls it made."""

    id: int
    token: str | None = None
    webhook: Webhook | None = None
    chats: dict[int, Chat] = field(default_factory=dict)
    users: dict[int, User] = field(default_factory=dict)
    updates: dict[int, dict[str, Any]] = field(default_factory=dict)
    polled: deque[dict[str, Any]] = field(default_factory=deque)
    in_delivery: int = 0
    next_update_id: int = 0
    callbacks: dict[str, CallbackQuery] = field(default_factory=dict)
    calls: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=MAX_RECORDED_CALLS))
    # update_id → how its delivery stands: state (pending, delivered, failed,
    # not delivered), attempts, last status and error. Bounded, oldest first out.
    deliveries: OrderedDict[int, dict[str, Any]] = field(default_factory=OrderedDict)
    commands: dict[CommandScope, list[dict[str, Any]]] = field(default_factory=dict)
    # BotFather's /setprivacy: on by default, as on Telegram.
    privacy_mode: bool = True
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    # setChatMenuButton: per private chat id, 0 for the default.
    menu_buttons: dict[int, dict[str, Any]] = field(default_factory=dict)
    # The account's message ids: private chats and basic groups (Chat.account_ids).
    account_ids: MessageCounter = field(default_factory=MessageCounter)

    def __post_init__(self) -> None:
        # Update ids look like Telegram's: large and increasing per bot.
        self.next_update_id = 100_000_000 + (self.id % 1000) * 1000

    @property
    def username(self) -> str:
        """Telegram bot usernames end in "bot"."""
        return f"veil_{self.id}_bot"

    def me(self) -> User:
        """The bot's own account."""
        return User(self.id, first_name=f"Bot {self.id}", username=self.username, is_bot=True)

    def user(
        self, user_id: int, first_name: str | None = None, username: str | None = None
    ) -> User:
        """A user this bot knows of (created on first sight, renamed when told)."""
        user = self.users.get(user_id)
        if user is None:
            user = self.users[user_id] = User(user_id)
        if first_name:
            user.first_name = first_name
        if username:
            user.username = username
        return user

    def with_users(self, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``entities`` with each text_mention's user whole, as Telegram sends it."""
        return [
            {**e, "user": self.user(int(e["user"]["id"])).to_api()}
            if e.get("type") == "text_mention"
            else e
            for e in entities
        ]

    def private_chat(self, user: User) -> Chat:
        """The private chat with ``user``; it exists once the user wrote to the bot."""
        chat = self.chats.get(user.id)
        if chat is None:
            chat = self.chats[user.id] = Chat(user.id, "private", account_ids=self.account_ids)
        chat.started = True
        chat.first_name, chat.username = user.first_name, user.username
        return chat

    def chat(self, raw_chat_id: Any) -> Chat:
        """A chat by id or ``@username``; Telegram's "chat not found" otherwise."""
        if isinstance(raw_chat_id, str) and raw_chat_id.startswith("@"):
            wanted = raw_chat_id[1:].lower()
            for chat in self.chats.values():
                if chat.username and chat.username.lower() == wanted:
                    return chat
            raise bad_request("chat not found")
        try:
            chat_id = int(raw_chat_id)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
        found = self.chats.get(chat_id)
        if found is None:
            if chat_id in self.users:
                # Known from a group, never wrote to the bot.
                raise forbidden("bot can't initiate conversation with a user")
            raise bad_request("chat not found")
        return found

    def new_update(self, **content: Any) -> dict[str, Any]:
        """Number and keep an update (kept so that it can be redelivered)."""
        self.next_update_id += 1
        update = {"update_id": self.next_update_id, **content}
        self.updates[self.next_update_id] = update
        _keep_newest(self.updates, MAX_KEPT_UPDATES)
        return update

    def new_callback(self, query: CallbackQuery) -> CallbackQuery:
        """Keep a callback query until it is answered (the newest ones only)."""
        self.callbacks[query.id] = query
        _keep_newest(self.callbacks, MAX_KEPT_UPDATES)
        return query


class World:
    """Every bot the emulator has seen."""

    def __init__(self) -> None:
        self.bots: dict[int, BotState] = {}
        self._callback_ids = itertools.count(int(time.time() * 1000) % 10**9 * 1000)

    def bot(self, bot_id: int) -> BotState:
        """A bot by id (created on first mention, as a control call may come first)."""
        bot = self.bots.get(bot_id)
        if bot is None:
            bot = self.bots[bot_id] = BotState(bot_id)
        return bot

    def bot_for_token(self, token: str) -> BotState:
        """The bot a token belongs to; any well-formed token is a bot.

        A second, different token for the same bot id is refused, as Telegram
        refuses a revoked token.
        """
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or len(secret) < 20:
            raise unauthorized()
        bot = self.bot(int(bot_id))
        if bot.token is None:
            bot.token = token
        elif bot.token != token:
            raise unauthorized()
        return bot

    def callback_id(self) -> str:
        """A fresh callback query id (Telegram's are large decimal strings)."""
        return str(next(self._callback_ids))


def error_of(error: BotApiError) -> dict[str, Any]:
    """How a failed call is recorded."""
    return {"error_code": error.error_code, "description": error.description}


def _keep_newest(kept: dict[Any, Any], limit: int) -> None:
    """Drop the oldest entries (dicts keep insertion order) beyond ``limit``."""
    while len(kept) > limit:
        del kept[next(iter(kept))]
