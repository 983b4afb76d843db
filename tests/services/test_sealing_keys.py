"""Issue 15: a process given a wrong or missing key refuses to start, naming the
setting, and writes nothing; the sealing primitives bind each value to its row."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest

from tools.devstack.infra import config as infra
from tools.devstack.infra.postgres_sql import psql
from tools.devstack.ports import free_port
from tools.devstack.stack import REPO_ROOT, Stack
from veil.core.sealing import Keyring, SealingError, ad, new_master_key

COMMANDS = {
    "confessions": [sys.executable, "-m", "services.confessions"],
    "notifier": [sys.executable, "-m", "services.notifier"],
    "notifier-worker": [sys.executable, "-m", "services.notifier.worker"],
}


def _start(
    stack: Stack, name: str, overrides: dict[str, str | None]
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **stack.service_env(name), "PYTHONPATH": str(REPO_ROOT)}
    env |= {"VEIL_GRPC_PORT": str(free_port()), "VEIL_METRICS_PORT": str(free_port())}
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    env.pop("VEIL_TRACE_FILE", None)
    return subprocess.run(
        COMMANDS[name], env=env, capture_output=True, text=True, timeout=60, cwd=REPO_ROOT
    )


def _seal_rows(infra_config: infra.InfraConfig) -> str:
    return psql(
        infra_config,
        "SELECT string_agg(key_id || ':' || encode(check_value, 'hex'), ',' ORDER BY key_id) "
        "FROM confessions.seal_keys UNION ALL "
        "SELECT string_agg(key_id || ':' || encode(check_value, 'hex'), ',' ORDER BY key_id) "
        "FROM notifier.seal_keys",
    )


@pytest.mark.parametrize("name", list(COMMANDS))
async def test_a_wrong_or_missing_key_stops_the_process_before_it_writes(
    stack: Stack, infra_config: infra.InfraConfig, name: str
) -> None:
    current = stack.seal_env()
    first, *others = current["VEIL_SEAL_MASTER_KEYS"].split(",")
    kid = first.split(":", 1)[0]
    before = await asyncio.to_thread(_seal_rows, infra_config)
    cases: list[tuple[dict[str, str | None], str]] = [
        ({"VEIL_SEAL_MASTER_KEYS": None}, "VEIL_SEAL_MASTER_KEYS is not set"),
        ({"VEIL_SEAL_LOOKUP_KEY": None}, "VEIL_SEAL_LOOKUP_KEY is not set"),
        ({"VEIL_SEAL_MASTER_KEYS": "dev1:short"}, "VEIL_SEAL_MASTER_KEYS: key 'dev1'"),
        # The same key id with another key: the schema's key-check value refuses it.
        (
            {"VEIL_SEAL_MASTER_KEYS": ",".join([f"{kid}:{new_master_key()}", *others])},
            f"VEIL_SEAL_MASTER_KEYS: key '{kid}' is not the key",
        ),
        # Another key id only: data sealed under the real one could not be opened.
        (
            {"VEIL_SEAL_MASTER_KEYS": f"other:{new_master_key()}"},
            "VEIL_SEAL_MASTER_KEYS lacks master key '",
        ),
        ({"VEIL_SEAL_LOOKUP_KEY": "x" * 40}, "VEIL_SEAL_LOOKUP_KEY is not the key"),
    ]
    for overrides, message in cases:
        done = await asyncio.to_thread(_start, stack, name, overrides)
        assert done.returncode != 0, (overrides, done.stderr[-500:])
        assert message in done.stderr, (overrides, done.stderr[-800:])
        assert "refusing to start" in done.stderr
    # Nothing was written with the wrong keys (not even their check values).
    assert await asyncio.to_thread(_seal_rows, infra_config) == before


def test_a_sealed_value_opens_only_with_its_keys_and_its_own_row() -> None:
    keys = Keyring.parse(f"a:{new_master_key()}", "l" * 32)
    sealed = keys.seal(b"4242", ad("members", 1))
    assert keys.open(sealed, ad("members", 1)) == b"4242"
    assert b"4242" not in sealed
    assert Keyring.key_id(sealed) == "a"
    # Another row's associated data, or another deployment's keys: refused.
    with pytest.raises(SealingError):
        keys.open(sealed, ad("members", 2))
    other = Keyring.parse(f"a:{new_master_key()}", "l" * 32)
    with pytest.raises(SealingError):
        other.open(sealed, ad("members", 1))
    # Rotation: the new key wraps, the old one still reads until re-wrapped.
    old_key = f"a:{new_master_key()}"
    old = Keyring.parse(old_key, "l" * 32)
    value = old.seal(b"77", ad("x"))
    both = Keyring.parse(f"b:{new_master_key()},{old_key}", "l" * 32)
    assert both.open(value, ad("x")) == b"77"
    rewrapped = both.rewrap(value, ad("x"))
    assert Keyring.key_id(rewrapped) == "b"
    assert both.open(rewrapped, ad("x")) == b"77"
    with pytest.raises(SealingError):
        old.open(rewrapped, ad("x"))
    # A member's data key destroyed: their sealed chat opens no more, whatever keys.
    dek, wrapped = keys.new_data_key(ad("m", 1))
    chat = keys.seal_with(dek, b"123", ad("m", 1))
    assert keys.open_with(keys.unwrap(wrapped, ad("m", 1)), chat, ad("m", 1)) == b"123"
    with pytest.raises(SealingError):
        keys.open_with(keys.new_data_key(ad("m", 1))[0], chat, ad("m", 1))
    # The lookup hash is keyed: another lookup key gives another hash.
    assert keys.lookup("member", 1, 5) == keys.lookup("member", 1, 5)
    assert keys.lookup("member", 1, 5) != Keyring.parse(f"a:{new_master_key()}", "m" * 32).lookup(
        "member", 1, 5
    )
