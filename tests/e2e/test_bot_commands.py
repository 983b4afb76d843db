"""Telegram's "/" menus: members' commands in private chats, admins' in the admin chat."""

from __future__ import annotations

import asyncio
from typing import Any

from services.gateway.commands import ADMIN_COMMANDS, MEMBER_COMMANDS
from tests.support.threads import bot_api, until
from tests.support.world import World

PRIVATE = {"type": "all_private_chats"}


def _listed(commands: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"command": name, "description": text} for name, text in commands]


async def _menu(community: World.Community, scope: dict[str, Any]) -> list[dict[str, str]]:
    return list(await bot_api(community, "getMyCommands", {"scope": scope}))


async def _calls(community: World.Community, method: str) -> int:
    path = f"/bots/{community.bot_id}/calls?method={method}"
    return len((await community.world.control("GET", path))["calls"])


async def test_menus_are_set_when_a_community_is_added_or_its_admin_chat_moves(
    world: World, community: World.Community
) -> None:
    admins = {"type": "chat", "chat_id": community.admin_chat_id}

    async def menus_set() -> bool:
        return bool(await _menu(community, admins))

    await until(menus_set, "the admin chat's menu was never set")
    assert await _menu(community, PRIVATE) == _listed(MEMBER_COMMANDS)
    assert await _menu(community, admins) == _listed(ADMIN_COMMANDS)
    # Nothing in the default scope: groups other than the admin chat get no menu.
    assert await _menu(community, {"type": "default"}) == []
    assert await _menu(community, {"type": "all_group_chats"}) == []

    # The community is moderated in another chat from now on.
    moved = community.admin_chat_id - 1
    await world.control(
        "POST",
        "/chats",
        {"bot_id": community.bot_id, "chat_id": moved, "type": "supergroup", "admins": [1]}
        | {"bot_is_admin": True},
    )
    await asyncio.to_thread(
        world.stack.add_community, community.token, community.channel_id, moved, "Test University"
    )
    new_admins = {"type": "chat", "chat_id": moved}

    async def moved_menu_set() -> bool:
        return bool(await _menu(community, new_admins))

    await until(moved_menu_set, "the new admin chat's menu was never set")
    assert await _menu(community, new_admins) == _listed(ADMIN_COMMANDS)
    assert await _menu(community, admins) == []
    assert await _menu(community, PRIVATE) == _listed(MEMBER_COMMANDS)
    sets, deletes = (
        await _calls(community, "setMyCommands"),
        await _calls(community, "deleteMyCommands"),
    )
    assert (sets, deletes) == (4, 1)

    # Later refreshes (the gateway had to refresh to serve this new community)
    # leave an unchanged community's menus alone.
    await world.create_community("Another University")
    assert await _calls(community, "setMyCommands") == sets
    assert await _calls(community, "deleteMyCommands") == deletes
