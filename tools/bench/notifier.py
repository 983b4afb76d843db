"""``make bench-notifier``: a burst through the notifier under Telegram's flood limits.

Starts its own stack under ``.veil/bench-notifier`` with the emulator enforcing
Telegram's limits (30 messages/s per bot, 1/s per private chat), registers
members of two bots, runs three notifier worker processes (the stack's own and
two more), queues a burst and prints, per bot and overall, messages/s against
the allowed rate and their ratio, the 429s received, and the CPU-ms per message
of the workers, Postgres, Redis and the emulator.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import time
from typing import Any

import aiohttp

from tools.bench.counters import cpu_snapshot as snapshot
from tools.bench.counters import process_groups
from tools.devstack.infra import lifecycle
from tools.devstack.infra.config import InfraConfig
from tools.devstack.ports import Ports
from tools.devstack.stack import REPO_ROOT, Stack
from veil.core.outbox import Outbox, OutgoingCall

BOT_IDS = (7200000001, 7200000002)
PER_BOT = 30


async def _control(
    http: aiohttp.ClientSession, stack: Stack, method: str, path: str, body: Any = None
) -> Any:
    async with http.request(method, f"{stack.emulator_url}/control{path}", json=body) as response:
        payload = await response.json(content_type=None)
        if response.status >= 400:
            raise RuntimeError(f"{path}: {payload}")
        return payload


async def _burst(
    stack: Stack, communities: dict[int, int], members: int, rounds: int
) -> dict[str, Any]:
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        users = {
            bot: [9_000_000_000 + bot % 10 * 1_000_000 + i for i in range(members)]
            for bot in communities
        }
        gate = asyncio.Semaphore(16)

        async def start(bot: int, user: int) -> None:
            async with gate:
                await _control(http, stack, "POST", f"/bots/{bot}/users/{user}/start", {})

        await asyncio.gather(*(start(b, u) for b, us in users.items() for u in us))
        await _control(
            http,
            stack,
            "POST",
            "/flood",
            {"enabled": True, "per_bot_per_second": PER_BOT, "per_private_chat_per_second": 1},
        )
        outbox, channel = Outbox.connect(f"127.0.0.1:{stack.ports.notifier}")
        run = secrets.token_hex(4)
        started = time.monotonic()
        for i in range(rounds):
            await outbox.send(
                [
                    OutgoingCall(
                        community_id=community,
                        method="sendMessage",
                        chat_id=user,
                        params={"chat_id": user, "text": f"bench {run} {i}"},
                        idempotency_key=f"bench:{run}:{user}:{i}",
                    )
                    for bot, community in communities.items()
                    for user in users[bot]
                ]
            )
        await channel.close()
        expected = members * rounds
        calls: dict[int, list[dict[str, Any]]] = {}
        while True:
            for bot in communities:
                found = (
                    await _control(http, stack, "GET", f"/bots/{bot}/calls?method=sendMessage")
                )["calls"]
                calls[bot] = [
                    c for c in found if str(c["params"].get("text", "")).startswith(f"bench {run}")
                ]
            if all(sum(1 for c in cs if c["ok"]) >= expected for cs in calls.values()):
                break
            if time.monotonic() - started > 60 + 2 * expected / PER_BOT:
                raise RuntimeError("the burst did not complete")
            await asyncio.sleep(1)
        return {"calls": calls, "expected": expected}


def main() -> None:
    """Run the burst and print its figures."""
    parser = argparse.ArgumentParser(prog="make bench-notifier")
    parser.add_argument("--members", type=int, default=int(os.environ.get("MEMBERS", 250)))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", 6)))
    args = parser.parse_args()
    cfg = InfraConfig(
        root=REPO_ROOT / ".veil" / "bench-notifier",
        pg_port=26952,
        pg_replica_port=26953,
        redis_ports=(27961, 27962, 27963, 27964, 27965, 27966),
    )
    lifecycle.destroy(cfg)
    stack = Stack(cfg, ports=Ports.ephemeral(), attached=True, log_level="WARNING")
    try:
        print("bench-notifier: starting the stack…", flush=True)
        stack.start_infra()
        stack.start_services()
        communities = {}
        for bot in BOT_IDS:
            token = f"{bot}:{secrets.token_urlsafe(27)}"
            output = stack.add_community(
                token, -(10**12) - bot, -(2 * 10**12) - bot, f"Bench {bot}"
            )
            communities[bot] = int(output.split()[1].rstrip(":"))
        stack.start_gateway()
        extra = [stack.start_worker(f"notifier-worker-{n}")[0].pid for n in (2, 3)]
        groups = process_groups(stack, cfg)
        groups["notifier workers"] = [
            int((stack.root / "run" / "notifier-worker.pid").read_text()),
            *extra,
        ]
        print(
            f"bench-notifier: {len(BOT_IDS)} bots x {args.members} members x {args.rounds} "
            "messages, 3 workers",
            flush=True,
        )
        before = snapshot(groups)
        result = asyncio.run(_burst(stack, communities, args.members, args.rounds))
        after = snapshot(groups)
        report(result, before, after)
    finally:
        stack.stop_processes()
        lifecycle.stop(cfg)


def report(result: dict[str, Any], before: dict[str, float], after: dict[str, float]) -> None:
    """Print the figures."""
    total_messages, total_rate = 0, 0.0
    for bot, calls in result["calls"].items():
        ok = sorted(float(c["time"]) for c in calls if c["ok"])
        refused = sum(1 for c in calls if c.get("error_code") == 429)
        rate = (len(ok) - 1) / (ok[-1] - ok[0])
        total_messages += len(ok)
        total_rate += rate
        print(
            f"bot {bot}: {len(ok)} messages in {ok[-1] - ok[0]:.1f} s → {rate:.1f} msgs/s of "
            f"{PER_BOT}/s allowed = {rate / PER_BOT:.1%}; 429s received: {refused}"
        )
    allowed = PER_BOT * len(result["calls"])
    print(f"overall: {total_rate:.1f} msgs/s of {allowed}/s = {total_rate / allowed:.1%}")
    print("CPU-ms per message:")
    for name in ("notifier workers", "postgres-primary", "redis", "emulator", "notifier"):
        if name in after:
            print(f"  {name:18} {(after[name] - before[name]) * 1000 / total_messages:6.2f}")


__all__ = ["main"]

if __name__ == "__main__":
    main()
