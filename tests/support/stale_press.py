"""A button press Telegram delivers for a message as it was, not as it is now.

The emulator only lets a member press a button the message shows at that
moment. A press can still reach the bot for buttons that are gone (it raced
the edit that removed them) or with data nobody was shown (a forged client):
this posts such a callback query straight to the gateway's webhook, with the
community's secret, as Telegram would, and like Telegram makes the Bot API call
the webhook's 200 may carry (the update's last call: an edit of the card, say).
Its answer goes to an unknown query id and is lost; what the press changed is
read back from the chat and the database.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import orjson

from services.gateway.registry import webhook_secret
from tests.support.world import World

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Far above the emulator's own update ids, so that none is dropped as a duplicate.
_update_ids = itertools.count(int(time.time() * 1000) % 10**9 + 10**9)


async def stale_press(
    community: World.Community,
    user_id: int,
    message: dict[str, Any],
    data: str,
    *,
    chat_id: int | None = None,
    first_name: str = "Ann",
) -> int:
    """``user_id`` presses ``data`` on ``message`` (in their private chat, or in
    ``chat_id``); returns the webhook's HTTP status."""
    world = community.world
    chat: dict[str, Any] = (
        {"id": chat_id, "type": "supergroup", "title": "admins"}
        if chat_id is not None
        else {"id": user_id, "type": "private", "first_name": first_name}
    )
    update = {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": f"stale-{next(_update_ids)}",
            "from": {"id": user_id, "is_bot": False, "first_name": first_name},
            "message": {
                "message_id": message["message_id"],
                "date": int(time.time()),
                "chat": chat,
                "text": message.get("text") or "",
            },
            "chat_instance": "stale",
            "data": data,
        },
    }
    key = world.stack.secrets()["webhook_secret_key"].encode()
    headers = {
        "Content-Type": "application/json",
        SECRET_HEADER: webhook_secret(key, community.id, community.bot_id),
    }
    url = f"{world.stack.gateway_url}/webhook/{community.id}"
    async with world.http.post(url, data=orjson.dumps(update), headers=headers) as response:
        status, body = response.status, await response.read()
    if status == 200 and body:
        carried = orjson.loads(body)
        method = carried.pop("method")
        async with world.http.post(
            f"{world.stack.emulator_url}/bot{community.token}/{method}",
            data=orjson.dumps(carried),
            headers={"Content-Type": "application/json"},
        ):
            pass  # Telegram tells nobody how a carried call went.
    return status
