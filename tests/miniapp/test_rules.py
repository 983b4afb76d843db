"""The rules form's API: every field checked, all stored or none, admins only."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.miniapp import assert_anonymous, call, init_data
from tests.support.moderation import admin_says, shown
from tests.support.services import Services
from tests.support.world import World, new_user_id
from veil.v1 import confessions_pb2

DEFAULTS = {
    "cooldown": "off",
    "cap": "off",
    "maxlen": "4000",
    "filter": "flag",
    "words": [],
    "publish": "now",
    # The trust-and-safety rules (issue 16).
    "pii": "flag",
    "commentfilter": "on",
    "reports": "default",
    "previews": "off",
}


async def stored(services: Services, community: World.Community) -> confessions_pb2.CommunityRules:
    """The community's rules as the confessions service has them."""
    rules: confessions_pb2.CommunityRules = await services.communities.GetCommunityRules(
        confessions_pb2.GetCommunityRulesRequest(community_id=community.id)
    )
    return rules


async def test_the_form_shows_and_changes_the_rules(
    world: World, community: World.Community, services: Services
) -> None:
    data = await init_data(community, 1)
    shown_rules = await call(community, "rules", data)
    assert shown_rules.status == 200, shown_rules.raw
    assert {k: shown_rules.json[k] for k in DEFAULTS} == DEFAULTS
    assert "Could identify someone" in shown_rules.json["reasons"]
    form = {
        "cooldown": "10m",
        "cap": 3,
        "maxlen": "1000",
        "filter": "reject",
        "words": ["spoiler", "exam answers"],
        "reasons": ["Names a person", "Too long"],
        "publish": "30m",
        "pii": "redact",
        "commentfilter": "off",
        "reports": "2.5",
        "previews": "on",
    }
    saved = await call(community, "rules", data, form)
    assert saved.status == 200, saved.raw
    assert saved.json == {**form, "cap": "3"}
    rules = await stored(services, community)
    assert (rules.cooldown_seconds, rules.daily_cap, rules.max_length) == (600, 3, 1000)
    assert rules.filter_action == confessions_pb2.WORD_FILTER_ACTION_REJECT
    assert list(rules.filter_words) == ["spoiler", "exam answers"]
    assert list(rules.reject_reasons) == ["Names a person", "Too long"]
    assert rules.publish_interval_minutes == 30
    assert (rules.pii_action, rules.filter_comments) == ("redact", False)
    assert (rules.report_threshold_hundredths, rules.link_previews) == (250, True)
    # The admin chat's /settings shows the same.
    settings = shown(await admin_says(community, 1, "/settings"))
    assert "cooldown: 10m" in settings and "1. Names a person" in settings
    # Lists can be emptied, and one field alone changes only that field.
    emptied = await call(community, "rules", data, {"words": [], "reasons": []})
    assert emptied.status == 200 and emptied.json["words"] == emptied.json["reasons"] == []
    assert emptied.json["cooldown"] == "10m"
    assert_anonymous(world, shown_rules, saved, emptied)


@pytest.mark.parametrize(
    "form",
    [
        {"cooldown": "5m", "maxlen": "99999"},
        {"cooldown": "5m", "cap": "lots"},
        {"cooldown": "5m", "filter": "shout"},
        {"cooldown": "5m", "publish": "48h"},
        {"cooldown": "5m", "pii": "shred"},
        {"cooldown": "5m", "reports": "0"},
        {"cooldown": "5m", "previews": "maybe"},
        {"cooldown": "5m", "words": ["a, b"]},
        {"cooldown": "5m", "words": "spoiler"},
        {"cooldown": "5m", "reasons": ["x" * 101]},
        {"cooldown": "5m", "reasons": [f"reason {i}" for i in range(9)]},
        {"cooldown": "5m", "reasons": [""]},
        {"cooldown": "5m", "colour": "blue"},
        {"cooldown": ["5m"]},
        {"cooldown": True},
        {},
    ],
)
async def test_a_bad_field_changes_nothing(
    community: World.Community, services: Services, form: dict[str, Any]
) -> None:
    before = await stored(services, community)
    answer = await call(community, "rules", await init_data(community, 1), form)
    assert answer.status == 400, answer.raw
    assert answer.json["error"]
    assert await stored(services, community) == before


async def test_outsiders_cannot_read_or_change_the_rules(
    community: World.Community, services: Services
) -> None:
    before = await stored(services, community)
    outsider = await init_data(community, new_user_id(), "Eve")
    assert (await call(community, "rules", outsider)).status == 403
    assert (await call(community, "rules", outsider, {"cooldown": "1h"})).status == 403
    assert (await call(community, "rules", None, {"cooldown": "1h"})).status == 401
    assert await stored(services, community) == before
