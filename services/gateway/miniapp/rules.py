"""The community's rules as a form in the Mini App.

``GET api/rules`` shows them as the form's fields; ``POST api/rules`` takes any
of those fields and stores them all or none (``SetCommunityRules``: every value
checked as ``/settings`` checks it, the service's message on a bad one).
"""

from __future__ import annotations

from typing import Any

from veil.core.durations import format_duration
from veil.v1 import confessions_pb2

TEXT_FIELDS = (
    "cooldown",
    "cap",
    "maxlen",
    "filter",
    "publish",
    "pii",
    "commentfilter",
    "reports",
    "previews",
)
LIST_FIELDS = ("words", "reasons")
MAX_ITEMS = 200


class RulesError(ValueError):
    """A form the API refuses before asking the service (400)."""


def rules_json(rules: confessions_pb2.CommunityRules) -> dict[str, Any]:
    """The rules as the form shows them (the values ``/settings`` takes)."""
    return {
        "cooldown": format_duration(rules.cooldown_seconds),
        "cap": str(rules.daily_cap) if rules.daily_cap else "off",
        "maxlen": str(rules.max_length),
        "filter": "reject"
        if rules.filter_action == confessions_pb2.WORD_FILTER_ACTION_REJECT
        else "flag",
        "words": list(rules.filter_words),
        "reasons": list(rules.reject_reasons),
        "publish": f"{rules.publish_interval_minutes}m"
        if rules.publish_interval_minutes
        else "now",
        "pii": rules.pii_action or "flag",
        "commentfilter": "on" if rules.filter_comments else "off",
        "reports": f"{rules.report_threshold_hundredths / 100:g}"
        if rules.report_threshold_hundredths
        else "default",
        "previews": "on" if rules.link_previews else "off",
    }


def settings_of(body: dict[str, Any]) -> list[confessions_pb2.RuleSetting]:
    """The form's fields as RuleSettings; RulesError for an unknown field or a wrong type."""
    unknown = set(body) - set(TEXT_FIELDS) - set(LIST_FIELDS)
    if unknown:
        raise RulesError(f"unknown rule(s): {', '.join(sorted(unknown))}")
    if not body:
        raise RulesError("no rule to change")
    settings = []
    for name in TEXT_FIELDS:
        if name in body:
            value = body[name]
            if isinstance(value, bool) or not isinstance(value, str | int):
                raise RulesError(f"{name} must be text or a number")
            settings.append(confessions_pb2.RuleSetting(name=name, value=str(value)[:100]))
    for name in LIST_FIELDS:
        if name in body:
            items = body[name]
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise RulesError(f"{name} must be a list of text")
            if len(items) > MAX_ITEMS:
                raise RulesError(f"at most {MAX_ITEMS} {name}")
            settings.append(confessions_pb2.RuleSetting(name=name, items=items, replace_list=True))
    return settings
