"""Entry points of the Mini App in Telegram, and /stats in the admin chat.

Telegram allows a ``web_app`` inline button only in a private chat with the bot
(the emulator refuses one elsewhere, as Telegram does): the admin chat gets a
t.me link to the bot's private chat, where an admin gets the ``web_app`` button
and their own menu button.
"""

from __future__ import annotations

from typing import Any

from tests.support.miniapp import pending_confession
from tests.support.moderation import admin_says, chat, shown
from tests.support.threads import bot_api
from tests.support.world import World, new_user_id


async def start_panel(community: World.Community, user_id: int, name: str) -> dict[str, Any]:
    """``user_id`` opens ``t.me/<bot>?start=panel``; returns the bot's answer."""
    world = community.world
    await world.control(
        "POST",
        f"/bots/{community.bot_id}/users/{user_id}/start",
        {"first_name": name, "payload": "panel"},
    )
    return [m for m in await chat(community, user_id) if m.get("from_bot")][-1]


def inline_buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Every inline button of a message."""
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


async def test_panel_in_the_admin_chat_links_to_the_private_chat(
    community: World.Community,
) -> None:
    await pending_confession(community, "waiting for the panel")
    answer = await admin_says(community, 1, "/panel")
    assert "1</b> confession(s) waiting" in str(answer["html"])
    [link] = inline_buttons(answer)
    me = await bot_api(community, "getMe", {})
    assert link == {
        "text": "🗂 Open moderation",
        "url": f"https://t.me/{me['username']}?start=panel",
    }


async def test_an_admin_gets_the_web_app_button_and_menu_button_in_private(
    world: World, community: World.Community
) -> None:
    answer = await start_panel(community, 1, "Ann")
    [opener] = inline_buttons(answer)
    url = f"{world.stack.gateway_url}/miniapp/{community.id}/"
    assert opener == {"text": "🗂 Open moderation", "web_app": {"url": url}}
    menu = await bot_api(community, "getChatMenuButton", {"chat_id": 1})
    assert menu == {"type": "web_app", "text": "Moderation", "web_app": {"url": url}}
    # Only that admin's chat: the default menu button is untouched.
    assert await bot_api(community, "getChatMenuButton", {}) == {"type": "default"}
    # The page itself is served there (no data in it).
    async with world.http.get(url) as page:
        assert page.status == 200
        assert "Moderation" in await page.text()


async def test_an_outsider_gets_neither(world: World, community: World.Community) -> None:
    outsider = new_user_id()
    world.user_ids.append(outsider)
    answer = await start_panel(community, outsider, "Eve")
    assert shown(answer) == "Only the community's admins can do this."
    assert not inline_buttons(answer)
    assert await bot_api(community, "getChatMenuButton", {"chat_id": outsider}) == {
        "type": "default"
    }


async def test_web_app_buttons_are_refused_outside_private_chats(
    community: World.Community,
) -> None:
    world = community.world
    async with world.http.post(
        f"{world.stack.emulator_url}/bot{community.token}/sendMessage",
        json={
            "chat_id": community.admin_chat_id,
            "text": "open",
            "reply_markup": {
                "inline_keyboard": [[{"text": "x", "web_app": {"url": "https://a.example/"}}]]
            },
        },
    ) as response:
        payload = await response.json()
    assert response.status == 400
    assert payload["description"] == "Bad Request: BUTTON_TYPE_INVALID"


async def test_stats_in_the_admin_chat(community: World.Community) -> None:
    await pending_confession(community, "counted in /stats")
    answer = await admin_says(community, 1, "/stats")
    text = shown(answer)
    assert text.startswith("📊 Last 14 days")
    assert "Confessions: 1 (today 1) · pending now: 1" in text
    assert "Active members: 1 confessed · 0 commented" in text
    assert "Median time to a decision: –" in text
