"""Mini App authentication through the real stack: initData as Telegram specifies it.

Every refusal is tried on the queue and on a decision, and nothing changes:
the confession stays pending and its card keeps its buttons.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlencode

import pytest

from tests.support.miniapp import call, confession_id, init_data, pending_confession, status_of
from tests.support.moderation import add_to_admin_chat, current
from tests.support.services import Services
from tests.support.threads import button
from tests.support.world import World, new_user_id
from veil.v1 import confessions_pb2


async def assert_refused(
    community: World.Community,
    services: Services,
    data: str | None,
    status: int,
    *,
    community_id: int | None = None,
) -> None:
    """The queue and a decision are refused with ``status``; the confession stays pending."""
    number, pending = await pending_confession(community, f"refused with {status}")
    cid = await confession_id(services, community, number)
    queue = await call(community, "queue", data, community_id=community_id)
    assert queue.status == status, queue.raw
    assert "items" not in queue.json and queue.json["error"]
    decided = await call(
        community,
        f"confessions/{cid}/decision",
        data,
        {"action": "approve"},
        community_id=community_id,
    )
    assert decided.status == status, decided.raw
    assert await status_of(services, community, number) == confessions_pb2.CONFESSION_STATUS_PENDING
    card = await current(community, community.admin_chat_id, pending["message_id"])
    assert button(card, "Approve"), "the card lost its buttons"


async def test_an_admin_with_valid_init_data_sees_the_queue(
    community: World.Community, services: Services
) -> None:
    number, _ = await pending_confession(community, "valid initData")
    answer = await call(community, "queue", await init_data(community, 1))
    assert answer.status == 200, answer.raw
    assert [item["number"] for item in answer.json["items"]] == [number]


async def test_no_init_data_is_401(community: World.Community, services: Services) -> None:
    await assert_refused(community, services, None, 401)
    await assert_refused(community, services, "", 401)


@pytest.mark.parametrize("tamper", ["hash", "user", "auth_date", "extra field", "no hash"])
async def test_forged_init_data_is_401(
    community: World.Community, services: Services, tamper: str
) -> None:
    fields = dict(parse_qsl(await init_data(community, 1)))
    if tamper == "hash":
        fields["hash"] = ("0" if fields["hash"][0] != "0" else "1") + fields["hash"][1:]
    elif tamper == "user":
        # Another user's id under the admin's signature.
        fields["user"] = fields["user"].replace('"id":1,', f'"id":{new_user_id()},')
        assert '"id":1,' not in fields["user"]
    elif tamper == "auth_date":
        fields["auth_date"] = str(int(fields["auth_date"]) + 1)
    elif tamper == "extra field":
        fields["start_param"] = "x"
    else:
        del fields["hash"]
    await assert_refused(community, services, urlencode(fields), 401)


async def test_stale_init_data_is_401(community: World.Community, services: Services) -> None:
    # Signed correctly, but 25 hours old (the limit is 24 h).
    stale = await init_data(community, 1, auth_date=int(time.time()) - 25 * 3600)
    await assert_refused(community, services, stale, 401)
    # Dated in the future beyond clock skew: refused as well.
    future = await init_data(community, 1, auth_date=int(time.time()) + 3600)
    await assert_refused(community, services, future, 401)


async def test_init_data_of_another_communitys_bot_is_401(
    world: World, community: World.Community, services: Services
) -> None:
    other = await world.create_community("Other College")
    # Admin 1 is an admin of both, but the data is signed by the other bot.
    await assert_refused(community, services, await init_data(other, 1), 401)


async def test_an_outsider_is_403(community: World.Community, services: Services) -> None:
    outsider = new_user_id()
    await assert_refused(community, services, await init_data(community, outsider, "Eve"), 403)


async def test_another_communitys_admin_is_403(
    world: World, community: World.Community, services: Services
) -> None:
    other = await world.create_community("Other College")
    their_admin = new_user_id()
    await add_to_admin_chat(other, [their_admin])
    # Valid data from this community's bot for a user who administers the other one.
    assert (await call(other, "queue", await init_data(other, their_admin))).status == 200
    await assert_refused(community, services, await init_data(community, their_admin), 403)


async def test_an_unknown_community_is_404(community: World.Community) -> None:
    answer = await call(community, "queue", await init_data(community, 1), community_id=99_999_999)
    assert answer.status == 404


async def test_a_new_admin_chat_member_is_let_in(
    community: World.Community, services: Services
) -> None:
    admin = new_user_id()
    await add_to_admin_chat(community, [admin])
    number, _ = await pending_confession(community, "a second admin")
    answer = await call(community, "queue", await init_data(community, admin, "Bob"))
    assert answer.status == 200 and answer.json["count"] == 1
    assert answer.json["items"][0]["number"] == number
