"""A community's rules as admins type them (``/rules <name> <value>``)."""

from __future__ import annotations

import pytest

from services.confessions.domain import Rules, apply_rule
from veil.core.durations import format_duration, parse_duration
from veil.core.errors import InvalidInputError

RULES = Rules(filter_words=("spam",), reject_reasons=("Off-topic", "Hurtful"))


@pytest.mark.parametrize(
    ("name", "value", "changes"),
    [
        ("cooldown", "10m", {"cooldown_seconds": 600}),
        ("Cooldown", " off ", {"cooldown_seconds": 0}),
        ("cap", "3", {"daily_cap": 3}),
        ("cap", "off", {"daily_cap": 0}),
        ("maxlen", "4000", {"max_length": 4000}),
        ("filter", "REJECT", {"filter_action": "reject"}),
        ("words", "add Spam, eggs ,ham", {"filter_words": ["spam", "eggs", "ham"]}),
        ("words", "remove SPAM", {"filter_words": []}),
        ("words", "clear", {"filter_words": []}),
        ("reasons", "add Too long", {"reject_reasons": ["Off-topic", "Hurtful", "Too long"]}),
        ("reasons", "remove 1", {"reject_reasons": ["Hurtful"]}),
        ("publish", "2h", {"publish_interval_minutes": 120}),
        ("publish", "45", {"publish_interval_minutes": 45}),
        ("publish", "now", {"publish_interval_minutes": 0}),
    ],
)
def test_a_rule_changes_exactly_its_columns(
    name: str, value: str, changes: dict[str, object]
) -> None:
    assert apply_rule(RULES, name, value) == changes


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("cooldown", "soon", "is not a duration"),
        ("cap", "1001", "from 0 to 1000"),
        ("maxlen", "0", "from 1 to 4000"),
        ("maxlen", "4001", "from 1 to 4000"),
        ("filter", "delete", "flag or reject"),
        ("words", "add " + "w" * 51, "at most 50 characters"),
        ("words", "shuffle", "words add"),
        ("reasons", "remove 3", "from 1 to 2"),
        ("reasons", "add", "reasons add"),
        ("publish", "25h", "1m to 24h"),
        ("colour", "blue", "unknown setting"),
    ],
)
def test_a_wrong_value_is_refused_with_what_to_type(name: str, value: str, said: str) -> None:
    with pytest.raises(InvalidInputError, match=said):
        apply_rule(RULES, name, value)


def test_durations_read_and_print_in_the_largest_whole_unit() -> None:
    for text, seconds in [
        ("90s", 90),
        ("10m", 600),
        ("12h", 43200),
        ("3d", 259200),
        ("2w", 1209600),
    ]:
        assert parse_duration(text) == seconds
        assert format_duration(seconds) == text
    assert parse_duration("5", default_unit="m") == 300
    assert format_duration(0) == "off"
    with pytest.raises(InvalidInputError, match="at most 5 years"):
        parse_duration("300w")
