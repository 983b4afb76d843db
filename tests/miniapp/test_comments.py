"""Hidden comments and search in the Mini App, through the stack.

A comment hidden by three reports (the social tests' own helper) is listed by
thread number and pseudonym, restored or deleted once through the same
ModerateComment as its card's buttons; search finds a confession by #N and a
pseudonym's comments. No answer names a member.
"""

from __future__ import annotations

import pytest

from tests.support.miniapp import assert_anonymous, call, init_data
from tests.support.threads import (
    admin_press,
    button,
    flagged_comment,
    hidden_comment,
    open_thread,
    publish,
    replica_caught_up,
)
from tests.support.world import World, new_user_id
from tools.devstack.infra.config import InfraConfig


async def test_a_hidden_comment_is_listed_and_restored_once(
    world: World, community: World.Community, infra_config: InfraConfig
) -> None:
    number, author, _writer, card = await hidden_comment(
        world, community, infra_config, "a dark joke"
    )
    data = await init_data(community, 1)
    listed = await call(community, "comments/hidden", data)
    assert listed.status == 200, listed.raw
    [comment] = listed.json["comments"]
    assert comment["number"] == number and comment["text"] == "a dark joke"
    assert (comment["status"], comment["reports"]) == ("hidden", 3)
    # Three fresh accounts (0.2 each), all reporting spam; never who.
    assert (comment["weight"], comment["reasons"]) == (0.6, ["spam: 3"])
    assert set(comment) == {
        "id",
        "number",
        "pseudonym",
        "text",
        "status",
        "reports",
        "weight",
        "reasons",
        "flagged",
        "age_seconds",
    }
    assert comment["flagged"] == []
    restored = await call(
        community,
        f"comments/{comment['id']}/decision",
        data,
        {"action": "restore", "number": number},
    )
    assert restored.json == {"done": True, "outcome": "↩️ Restored"}
    assert (await call(community, "comments/hidden", data)).json["comments"] == []
    # The card's button and a second decision in the app find it handled.
    pressed = await admin_press(community, card, button(card, "Delete"))
    assert pressed["answer"]["text"] == "Already handled by another admin."
    again = await call(
        community,
        f"comments/{comment['id']}/decision",
        data,
        {"action": "delete", "number": number},
    )
    assert again.json["done"] is False
    await replica_caught_up(infra_config)
    assert "a dark joke" in (await open_thread(author, number))["text"]
    assert_anonymous(world, listed, restored, again)


async def test_a_hidden_comment_is_deleted(
    world: World, community: World.Community, infra_config: InfraConfig
) -> None:
    number, author, _, _ = await hidden_comment(world, community, infra_config, "delete this one")
    data = await init_data(community, 1)
    [comment] = (await call(community, "comments/hidden", data)).json["comments"]
    deleted = await call(
        community,
        f"comments/{comment['id']}/decision",
        data,
        {"action": "delete", "number": number},
    )
    assert deleted.json == {"done": True, "outcome": "🗑 Deleted"}
    await replica_caught_up(infra_config)
    assert "delete this one" not in (await open_thread(author, number))["text"]


async def test_search_by_number_and_by_pseudonym(
    world: World, community: World.Community, infra_config: InfraConfig
) -> None:
    number, _, _, _ = await hidden_comment(world, community, infra_config, "find me by my name")
    data = await init_data(community, 1)
    [hidden] = (await call(community, "comments/hidden", data)).json["comments"]
    by_number = await call(community, f"search?q=%23{number}", data)
    assert by_number.status == 200, by_number.raw
    confession = by_number.json["confession"]
    assert (confession["number"], confession["text"]) == (number, "moderate me")
    assert confession["status"] == "published"
    by_name = await call(community, f"search?q={hidden['pseudonym'].lower()}", data)
    assert [c["text"] for c in by_name.json["comments"]] == ["find me by my name"]
    assert by_name.json["comments"][0]["pseudonym"] == hidden["pseudonym"]
    nothing = await call(community, "search?q=%23999999", data)
    assert nothing.json == {"confession": None, "comments": []}
    nobody = await call(community, "search?q=Nobody Here 1", data)
    assert nobody.json == {"confession": None, "comments": []}
    refused = await call(community, "search?q=alice", data)
    assert refused.status == 400 and "Misty Heron 417" in refused.json["error"]
    assert_anonymous(world, by_number, by_name, nothing, nobody)


async def test_a_flagged_comment_is_marked_as_on_its_card(
    world: World, community: World.Community, infra_config: InfraConfig
) -> None:
    """The doxxing guard's flag (rule flag, the default) shows where admins see
    the comment in the app, as on its card; the writer is never named."""
    author = community.member()
    await author.start()
    number = await publish(author, infra_config, "the flat upstairs")
    dox = "ring +44 7700 900126 or ask @upstairs_flat"
    card, pseudonym = await flagged_comment(community, number, dox)
    assert "⚠️ contains a phone number and an @mention" in card
    data = await init_data(community, 1)
    found = await call(community, f"search?q={pseudonym}", data)
    assert found.status == 200, found.raw
    [comment] = found.json["comments"]
    assert (comment["text"], comment["status"]) == (dox, "visible")
    assert comment["flagged"] == ["⚠️ contains a phone number and an @mention"]
    assert_anonymous(world, found)


@pytest.mark.parametrize(
    "body",
    [
        {"action": "ban", "number": 1},
        {"action": "restore"},
        {"action": "restore", "number": "1"},
        {"action": "restore", "number": True},
        {"number": 1},
    ],
)
async def test_bad_comment_decisions_change_nothing(
    world: World,
    community: World.Community,
    infra_config: InfraConfig,
    body: dict[str, object],
) -> None:
    await hidden_comment(world, community, infra_config, f"still hidden {body}")
    data = await init_data(community, 1)
    [comment] = (await call(community, "comments/hidden", data)).json["comments"]
    answer = await call(community, f"comments/{comment['id']}/decision", data, body)
    assert answer.status == 400, answer.raw
    assert [c["id"] for c in (await call(community, "comments/hidden", data)).json["comments"]] == [
        comment["id"]
    ]


async def test_other_threads_communities_and_outsiders_change_nothing(
    world: World, community: World.Community, infra_config: InfraConfig
) -> None:
    number, _, _, _ = await hidden_comment(world, community, infra_config, "not theirs to restore")
    data = await init_data(community, 1)
    [comment] = (await call(community, "comments/hidden", data)).json["comments"]
    path = f"comments/{comment['id']}/decision"
    # A thread that is not open here: 404.
    missing = await call(community, path, data, {"action": "restore", "number": number + 50})
    assert missing.status == 404
    # Another community's admin, with that community's own thread number.
    other = await world.create_community("Other College")
    theirs = await call(other, path, await init_data(other, 1), {"action": "restore", "number": 1})
    assert theirs.status == 404, theirs.raw
    outsider = await init_data(community, new_user_id(), "Eve")
    assert (await call(community, "comments/hidden", outsider)).status == 403
    assert (await call(community, f"search?q=%23{number}", outsider)).status == 403
    assert (
        await call(community, path, outsider, {"action": "restore", "number": number})
    ).status == 403
    still = (await call(community, "comments/hidden", data)).json["comments"]
    assert [c["id"] for c in still] == [comment["id"]]
