"""Session fixtures: real Postgres (primary + replica), real Redis Cluster, real processes.

The suite starts its own instances and stops them at the end. Ports are the
test set (Postgres 26432/26433, Redis 27101-27106, all shifted by
``VEIL_TEST_PORT_OFFSET`` when set, so that two checkouts can run the suite at once)
plus free ephemeral ports for Veil's own processes, so a ``make up`` on the same
machine is left alone.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import AsyncIterator, Iterator

import aiohttp
import grpc
import pytest

from tests.support.otlp import Receiver
from tests.support.services import Services
from tests.support.world import PACE_SECONDS, World
from tools.devstack.infra import lifecycle
from tools.devstack.infra.config import InfraConfig
from tools.devstack.ports import Ports
from tools.devstack.stack import REPO_ROOT, Stack
from veil.core.sealing import Keyring

TEST_ROOT = REPO_ROOT / ".veil" / "test"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``last`` run after all others (they inspect what the run left)."""
    items.sort(key=lambda item: item.get_closest_marker("last") is not None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "last: run after every other test")


@pytest.fixture(scope="session")
def infra_config() -> Iterator[InfraConfig]:
    """Test infrastructure, started fresh for the run and stopped at its end."""
    cfg = InfraConfig.shifted(TEST_ROOT, 0)
    # Every run starts from empty databases: no community of an earlier run is
    # served again, and a cold start is only a few seconds.
    lifecycle.destroy(cfg)
    lifecycle.start(cfg)
    yield cfg
    lifecycle.stop(cfg)


@pytest.fixture(scope="session")
def otlp_receiver() -> Iterator[Receiver]:
    """The OTLP collector every process of the stack exports its spans to."""
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def stack(infra_config: InfraConfig, otlp_receiver: Receiver) -> Iterator[Stack]:
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
            # Few updates in flight (so a Redis pool of 64 per node): a burst
            # test sees updates past the bound wait in line, not fail.
            "VEIL_MAX_UPDATES_IN_FLIGHT": "16",
            # A member's messages to the admins per hour: low, so that the limit
            # is reached within the gateway's own rate limit.
            "VEIL_ADMIN_MESSAGES_PER_HOUR": "3",
            # Short pacing, so that tests see a batched notification and a
            # paced counter edit leave within seconds.
            "VEIL_NOTIFY_BATCH_SECONDS": str(PACE_SECONDS),
            "VEIL_COUNTER_EDIT_SECONDS": str(PACE_SECONDS),
            # The relays (cards, follow-ups) linger less than in production,
            # where a longer wait makes bigger batches: tests wait for them.
            "VEIL_RELAY_LINGER_SECONDS": "0.05",
            # Every process traces (ratio 1) to the suite's own OTLP receiver,
            # exporting a batch every 100 ms so that tests wait little.
            "VEIL_OTLP_ENDPOINT": f"http://127.0.0.1:{otlp_receiver.port}",
            "VEIL_TRACE_SAMPLE_RATIO": "1.0",
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            # Notifier workers: a dead worker's lease runs out in seconds and
            # 5xx retries back off quickly, so that the failure tests stay short.
            "VEIL_NOTIFIER_LEASE_SECONDS": "6",
            "VEIL_NOTIFIER_REQUEST_TIMEOUT_SECONDS": "2",
            "VEIL_NOTIFIER_BACKOFF_BASE_SECONDS": "0.2",
            "VEIL_NOTIFIER_BACKOFF_CAP_SECONDS": "1",
            "VEIL_NOTIFIER_MAX_ATTEMPTS": "4",
            "VEIL_NOTIFIER_STATS_SECONDS": "0.5",
            "VEIL_NOTIFIER_REFRESH_SECONDS": "2",
            # Retention prunes often, so that its tests see aged rows go.
            "VEIL_RETENTION_INTERVAL_SECONDS": "1",
        },
    )
    # Every process can read a second master key, not yet current: the key
    # rotation test (tests/services/test_key_rotation.py) makes it current
    # under load, as step 2 of the procedure in the README.
    stack.extra_env["VEIL_SEAL_MASTER_KEYS"] = (
        f"{stack.secrets()['seal_master_keys']},{ROTATION_KEY_ID}:{rotation_key(stack)}"
    )
    stack.migrate()
    try:
        stack.start_services()
        stack.start_gateway()
        yield stack
    finally:
        stack.stop_processes()


ROTATION_KEY_ID = "rot2"


def rotation_key(stack: Stack) -> str:
    """The second master key of the suite's stack: derived from its secrets, so
    the same again when the stack's data is kept between runs."""
    seed = stack.secrets()["seal_lookup_key"].encode()
    digest = hmac.new(seed, b"veil test rotation key", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.fixture(scope="session")
def seal_keys(stack: Stack) -> Keyring:
    """The stack's sealing keys, as its processes have them."""
    env = stack.seal_env()
    return Keyring.parse(env["VEIL_SEAL_MASTER_KEYS"], env["VEIL_SEAL_LOOKUP_KEY"])


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


@pytest.fixture
async def services(stack: Stack) -> AsyncIterator[Services]:
    """gRPC stubs of the running confessions and social services."""
    channels = [
        grpc.aio.insecure_channel(f"127.0.0.1:{stack.ports.confessions}"),
        grpc.aio.insecure_channel(f"127.0.0.1:{stack.ports.social}"),
    ]
    yield Services(channels)
    for channel in channels:
        await channel.close()
