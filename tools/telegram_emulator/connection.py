"""Bot API methods of the bot itself and how it receives updates: getMe, webhooks, getUpdates."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

from tools.telegram_emulator.errors import BotApiError, bad_request
from tools.telegram_emulator.model import BotState, Webhook
from tools.telegram_emulator.params import Params
from tools.telegram_emulator.state import Emulator

_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


def get_me(em: Emulator, bot: BotState, params: Params) -> dict[str, Any]:
    """getMe."""
    return bot.me().to_api() | {
        "can_join_groups": True,
        "can_read_all_group_messages": not bot.privacy_mode,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def set_webhook(em: Emulator, bot: BotState, params: Params) -> bool:
    """setWebhook; an empty url removes it, as on Telegram."""
    url = params.text("url") or ""
    if not url:
        bot.webhook = None
        return True
    if urlsplit(url).scheme not in ("http", "https"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if not _loopback(url):
        # Telegram would reach out to the internet; the emulator never does.
        raise bad_request("bad webhook: the emulator delivers to loopback addresses only")
    secret = params.text("secret_token")
    if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    max_connections = params.integer("max_connections", 40)
    if max_connections is None or not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    allowed = params.obj("allowed_updates", "allowed updates")
    if params.flag("drop_pending_updates"):
        bot.polled.clear()
    bot.webhook = Webhook(url, secret or None, max_connections, list(allowed or []))
    return True


def delete_webhook(em: Emulator, bot: BotState, params: Params) -> bool:
    """deleteWebhook."""
    if params.flag("drop_pending_updates"):
        bot.polled.clear()
    bot.webhook = None
    return True


def get_webhook_info(em: Emulator, bot: BotState, params: Params) -> dict[str, Any]:
    """getWebhookInfo."""
    hook = bot.webhook
    info: dict[str, Any] = {
        "url": hook.url if hook else "",
        "has_custom_certificate": False,
        "pending_update_count": bot.in_delivery if hook else len(bot.polled),
    }
    if hook:
        info["max_connections"] = hook.max_connections
        if hook.allowed_updates:
            info["allowed_updates"] = hook.allowed_updates
        if hook.last_error_date:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
    return info


async def get_updates(em: Emulator, bot: BotState, params: Params) -> list[dict[str, Any]]:
    """getUpdates: long polling, refused while a webhook is set."""
    if bot.webhook is not None:
        raise BotApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    offset = params.integer("offset", 0) or 0
    limit = min(max(params.integer("limit", 100) or 100, 1), 100)
    timeout = min(params.integer("timeout", 0) or 0, 50)
    while bot.polled and offset and bot.polled[0]["update_id"] < offset:
        bot.polled.popleft()
    if not bot.polled and timeout:
        event = em.poll_event(bot.id)
        event.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
    return list(bot.polled)[:limit]
