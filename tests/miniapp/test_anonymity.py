"""The anonymity scan over every Mini App endpoint: no answer names an author.

A member with a distinctive name confesses and comments; every endpoint is
called while their content is in play, and each answer is searched for every
Telegram id and username of the run's members and for members' names.
"""

from __future__ import annotations

from aiohttp.web import RouteDef

from services.gateway.miniapp.api import routes
from tests.support.miniapp import (
    Answer,
    assert_anonymous,
    call,
    confession_id,
    init_data,
    pending_confession,
)
from tests.support.moderation import confess, number_of
from tests.support.services import Services
from tests.support.threads import hidden_comment
from tests.support.world import World
from tools.devstack.infra.config import InfraConfig

ENDPOINTS = {
    "queue",
    "decision",
    "stats",
    "rules",
    "rules (form)",
    "comments/hidden",
    "comment decision",
    "search #N",
    "search pseudonym",
}


async def test_no_mini_app_answer_names_an_author(
    world: World,
    community: World.Community,
    services: Services,
    infra_config: InfraConfig,
) -> None:
    author = community.member(first_name="Quetzalia")
    await author.start()
    mine = number_of(await confess(author, "written by someone with a rare name"))
    number, _, _, _ = await hidden_comment(world, community, infra_config, "a comment to hide")
    await pending_confession(community, "one more in the queue")
    data = await init_data(community, 1)
    answers: dict[str, Answer] = {}
    answers["queue"] = await call(community, "queue", data)
    assert "written by someone with a rare name" in answers["queue"].raw
    answers["comments/hidden"] = await call(community, "comments/hidden", data)
    [hidden] = answers["comments/hidden"].json["comments"]
    answers["search pseudonym"] = await call(community, f"search?q={hidden['pseudonym']}", data)
    answers["search #N"] = await call(community, f"search?q=%23{mine}", data)
    answers["comment decision"] = await call(
        community,
        f"comments/{hidden['id']}/decision",
        data,
        {"action": "restore", "number": number},
    )
    answers["decision"] = await call(
        community,
        f"confessions/{await confession_id(services, community, mine)}/decision",
        data,
        {"action": "ban"},
    )
    answers["stats"] = await call(community, "stats", data)
    answers["rules"] = await call(community, "rules", data)
    answers["rules (form)"] = await call(community, "rules", data, {"cooldown": "1m"})
    assert set(answers) == ENDPOINTS
    # Every API route is in the scan (search twice: by number and by pseudonym).
    api_routes = {
        (r.method, r.path) for r in routes() if isinstance(r, RouteDef) and "/api/" in r.path
    }
    assert len(api_routes) == len(ENDPOINTS) - 1, api_routes
    assert all(a.status == 200 for a in answers.values()), {
        k: a.raw for k, a in answers.items() if a.status != 200
    }
    assert author.user_id in world.user_ids
    assert_anonymous(world, *answers.values(), names=("Quetzalia",))
