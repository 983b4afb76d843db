"""The unit layer runs without the stack: a test here that asks for it fails at collection.

Every fixture that needs Postgres, Redis or a Veil process depends on ``infra_config``
or ``stack`` (tests/conftest.py), so asking for either, directly or through another
fixture, is what is refused.
"""

from __future__ import annotations

import pytest

STACK_FIXTURES = frozenset({"infra_config", "stack", "otlp_receiver"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse unit tests that would start the stack (``make unit`` must not need it)."""
    for item in items:
        if "tests/unit/" not in item.nodeid:
            continue
        wanted = STACK_FIXTURES & set(getattr(item, "fixturenames", ()))
        if wanted:
            raise pytest.UsageError(
                f"{item.nodeid} asks for {sorted(wanted)}: the unit layer runs without the "
                "stack; put it in the area that tests the running system"
            )
