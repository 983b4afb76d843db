"""Session fixtures: real Postgres (primary + replica), real Redis Cluster, real processes.

The suite starts its own instances and stops them at the end. Ports are the
test set (Postgres 56432/56433, Redis 57101-57106, all shifted by
``VEIL_TEST_PORT_OFFSET`` when set, so that two checkouts can run the suite at once)
plus free ephemeral ports for Veil's own processes, so a ``make up`` on the same
machine is left alone.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from tests.e2e.world import World
from tools.devstack import infra
from tools.devstack.stack import REPO_ROOT, Ports, Stack

TEST_ROOT = REPO_ROOT / ".veil" / "test"
PORT_OFFSET = int(os.environ.get("VEIL_TEST_PORT_OFFSET", "0"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``last`` run after all others (they inspect what the run left)."""
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "last: run after every other test")


@pytest.fixture(scope="session")
def infra_config() -> Iterator[infra.InfraConfig]:
    """Test infrastructure, started fresh for the run and stopped at its end."""
    cfg = infra.InfraConfig(
        root=TEST_ROOT,
        pg_port=56432 + PORT_OFFSET,
        pg_replica_port=56433 + PORT_OFFSET,
        redis_ports=tuple(57101 + PORT_OFFSET + i for i in range(6)),
    )
    # Every run starts from empty databases: no community of an earlier run is
    # served again, and a cold start is only a few seconds.
    infra.destroy(cfg)
    infra.start(cfg)
    yield cfg
    infra.stop(cfg)


@pytest.fixture(scope="session")
def stack(infra_config: infra.InfraConfig) -> Iterator[Stack]:
    """The whole system as real processes, dying with the test run."""
    for log in (infra_config.root / "logs").glob("*.log"):
        if log.stem in {
            "gateway",
            "confessions",
            "social",
            "notifier",
            "notifier-worker",
            "emulator",
        }:
            log.unlink()
    stack = Stack(
        infra_config,
        ports=Ports.ephemeral(),
        attached=True,
        extra_env={
            "VEIL_COMMUNITY_REFRESH_SECONDS": "0.3",
            "VEIL_RATE_LIMIT_BURST": "10",
            "VEIL_RATE_LIMIT_PER_MINUTE": "30",
            # Notifier workers: a dead worker's lease runs out in seconds and
            # 5xx retries back off quickly, so that the failure tests stay short.
            "VEIL_NOTIFIER_LEASE_SECONDS": "6",
            "VEIL_NOTIFIER_REQUEST_TIMEOUT_SECONDS": "2",
            "VEIL_NOTIFIER_BACKOFF_BASE_SECONDS": "0.2",
            "VEIL_NOTIFIER_BACKOFF_CAP_SECONDS": "1",
            "VEIL_NOTIFIER_MAX_ATTEMPTS": "4",
            "VEIL_NOTIFIER_STATS_SECONDS": "0.5",
            "VEIL_NOTIFIER_REFRESH_SECONDS": "2",
        },
    )
    stack.migrate()
    try:
        stack.start_services()
        stack.start_gateway()
        yield stack
    finally:
        stack.stop_processes()


@pytest.fixture(scope="session")
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """One HTTP client for the whole run."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        yield session


@pytest.fixture(scope="session")
def world(stack: Stack, http: aiohttp.ClientSession) -> World:
    """Helpers to create communities and act as members through the emulator."""
    return World(stack, http)


@pytest.fixture
async def community(world: World) -> World.Community:
    """A fresh community (its own bot, channel and admin chat) served by the gateway."""
    return await world.create_community()
