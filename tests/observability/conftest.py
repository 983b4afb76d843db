"""One community and one load for every observability test (a community costs seconds)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.observability.load import Load, report_to_threshold
from tests.support.world import World
from tools.devstack.infra.config import InfraConfig


@dataclass(frozen=True)
class Observed:
    """The community the load ran in, and the load."""

    community: World.Community
    load: Load


@pytest.fixture(scope="session")
async def observed(world: World, infra_config: InfraConfig) -> Observed:
    """A confession, a comment, reports that hide it (an admin card), a redelivery."""
    community = await world.create_community("Observability University")
    return Observed(community, await report_to_threshold(community, infra_config))
