"""Call the moderation Mini App as Telegram would open it: initData from the emulator."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from tests.sealed import chat_key_sql
from tests.support.moderation import card, confess, number_of
from tests.support.services import Services
from tests.support.world import World
from tools.devstack.infra.config import InfraConfig
from tools.devstack.infra.postgres_sql import psql
from veil.core.sealing import Keyring
from veil.v1 import confessions_pb2


@dataclass
class Answer:
    """An API answer: status, parsed JSON and the raw body (for the anonymity scan)."""

    status: int
    json: dict[str, Any]
    raw: str


async def init_data(
    community: World.Community,
    user_id: int,
    first_name: str = "Ann",
    auth_date: int | None = None,
) -> str:
    """The initData a Telegram client hands the bot's Mini App for ``user_id``."""
    body: dict[str, Any] = {"first_name": first_name}
    if auth_date is not None:
        body["auth_date"] = auth_date
    answer = await community.world.control(
        "POST", f"/bots/{community.bot_id}/users/{user_id}/webapp", body
    )
    return str(answer["init_data"])


async def call(
    community: World.Community,
    path: str,
    data: str | None,
    body: Any = None,
    *,
    community_id: int | None = None,
    raw_body: bytes | None = None,
) -> Answer:
    """``GET`` (or ``POST`` with a body) ``/miniapp/<community>/api/<path>`` with initData."""
    world = community.world
    url = f"{world.stack.gateway_url}/miniapp/{community_id or community.id}/api/{path}"
    headers = {} if data is None else {"Authorization": f"tma {data}"}
    posting = body is not None or raw_body is not None
    async with world.http.request(
        "POST" if posting else "GET",
        url,
        headers=headers,
        json=body if raw_body is None and posting else None,
        data=raw_body,
    ) as response:
        raw = await response.text()
        return Answer(response.status, await response.json(content_type=None), raw)


async def pending_confession(community: World.Community, text: str) -> tuple[int, dict[str, Any]]:
    """A member confesses; returns the number and the card once it is in the admin chat."""
    author = community.member()
    await author.start()
    number = number_of(await confess(author, text))
    return number, await card(community, number)


async def confession_id(services: Services, community: World.Community, number: int) -> int:
    """The internal id of confession #number (what the Mini App's buttons carry)."""
    found = await services.confessions.GetConfession(
        confessions_pb2.GetConfessionRequest(community_id=community.id, number=number)
    )
    return int(found.confession.id)


async def status_of(services: Services, community: World.Community, number: int) -> int:
    """Confession #number's status now."""
    found = await services.confessions.GetConfession(
        confessions_pb2.GetConfessionRequest(community_id=community.id, number=number)
    )
    return int(found.confession.status)


def assert_anonymous(world: World, *answers: Answer, names: tuple[str, ...] = ()) -> None:
    """No answer names a member: none of the run's Telegram user ids or usernames, no
    member's first name ("Alice" unless a test chose others, given in ``names``)."""
    needles = {str(uid) for uid in world.user_ids} | {f"u{uid}" for uid in world.user_ids}
    needles |= {"Alice", *names}
    for answer in answers:
        leaked = sorted(n for n in needles if n in answer.raw)
        assert not leaked, f"{leaked[:3]} in {answer.raw[:300]}"


async def channel_posts(community: World.Community, number: int) -> list[dict[str, Any]]:
    """The channel's posts of confession #number."""
    messages = await community.world.chat_messages(community.bot_id, community.channel_id)
    return [
        m
        for m in messages
        if str(m.get("text") or m.get("caption") or "").startswith(f"#{number}")
        and not m.get("deleted")
    ]


async def queued_to_channel(
    infra_config: InfraConfig, community: World.Community, keys: Keyring
) -> int:
    """How many messages were ever queued for the community's channel (posts and edits).

    Queued synchronously by the decision that won: counting them right after the
    decisions proves there is no second post waiting, without waiting for one.
    """
    count = await asyncio.to_thread(
        psql,
        infra_config,
        "SELECT count(*) FROM notifier.outbox WHERE "
        f"community_id = {community.id} "
        f"AND chat_key = {chat_key_sql(keys, community.id, community.channel_id)} "
        "AND method <> 'editMessageReplyMarkup'",
    )
    return int(count)
