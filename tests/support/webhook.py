"""Posting updates to the gateway's webhook as Telegram does."""

from __future__ import annotations

from typing import Any

from services.gateway.registry import webhook_secret
from tests.support.world import World

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def community_secret(world: World, community: World.Community) -> str:
    """The webhook secret token Telegram sends for ``community`` (derived as the gateway does)."""
    key = world.stack.secrets()["webhook_secret_key"].encode()
    return webhook_secret(key, community.id, community.bot_id)


def message_update(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    """A private-chat message update carrying a bot command."""
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Eve"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Eve"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


async def post_update(
    world: World, community_id: int | str, body: bytes, secret: str | None
) -> tuple[int, str]:
    """POST ``body`` to the community's webhook; (HTTP status, response text)."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    url = f"{world.stack.gateway_url}/webhook/{community_id}"
    async with world.http.post(url, data=body, headers=headers) as response:
        return response.status, await response.text()
