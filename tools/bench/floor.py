"""What one kind of update costs each process, against the reference driven the same way.

``make bench`` measures the mixed workload; this measures one kind alone, to
read the design's fixed cost per update. It starts the bench's stack under
``.veil/bench`` (so not beside ``make bench``), builds the bench's world, then
posts the same private-chat message (``/help`` by default, which needs no
service and is answered in the webhook's 200) at a fixed rate straight to the
gateway's webhook, and the same updates to stock aiogram
(:mod:`tools.bench.reference`), and prints CPU-ms per update of every process
and of the reference. Each kind is driven ``--rounds`` times, alternating with
the reference (the machine's speed drifts over minutes).

    PYTHONPATH=. python -m tools.bench.floor --text /help --rate 200 --seconds 15
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter

import aiohttp
import orjson

from tools.bench import reference
from tools.bench import world as bench_world
from tools.bench.counters import cpu_seconds, cpu_snapshot, process_groups
from tools.devstack.infra import lifecycle

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def message_update(update_id: int, user_id: int, text: str) -> bytes:
    """A member's private-chat message as Telegram posts it; a command carries its entity."""
    message: dict[str, object] = {
        "message_id": update_id % 1_000_000_000,
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private", "first_name": "Bench"},
        "from": {"id": user_id, "is_bot": False, "first_name": "Bench"},
        "text": text,
    }
    if text.startswith("/"):
        length = len(text.split(maxsplit=1)[0])
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return orjson.dumps({"update_id": update_id, "message": message})


async def drive(url: str, headers: dict[str, str], bodies: list[bytes], rate: int) -> Counter[int]:
    """POST ``bodies`` to ``url`` at ``rate`` per second (open loop); the answers' statuses."""
    statuses: Counter[int] = Counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def post(body: bytes) -> None:
            async with http.post(url, data=body, headers=headers) as response:
                await response.read()
                statuses[response.status] += 1

        tasks = []
        start = time.monotonic()
        for n, body in enumerate(bodies):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(post(body)))
        await asyncio.gather(*tasks)
    return statuses


def _reference_ms(bodies: list[bytes], warm_up: list[bytes], rate: int) -> tuple[float, str]:
    """CPU-ms per update of stock aiogram answering ``bodies``, and their statuses."""
    headers = {"Content-Type": "application/json"}
    with reference.running() as (url, pid):
        asyncio.run(drive(url, headers, warm_up, rate))
        before = cpu_seconds(pid)
        statuses = asyncio.run(drive(url, headers, bodies, rate))
        spent = cpu_seconds(pid) - before
    return spent * 1000 / len(bodies), _shown(statuses)


def _shown(statuses: Counter[int]) -> str:
    return ", ".join(f"{count}× {status}" for status, count in sorted(statuses.items()))


def main() -> None:
    """Drive one kind of update through Veil and the reference; print CPU-ms per update."""
    parser = argparse.ArgumentParser(prog="tools.bench.floor")
    parser.add_argument("--text", default="/help", help="the message every update carries")
    parser.add_argument("--rate", type=int, default=200, help="updates per second")
    parser.add_argument("--seconds", type=int, default=15, help="per measured round")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    cfg, stack = bench_world.bench_stack()
    try:
        stack.start_infra()
        stack.start_services()
        communities, roster = asyncio.run(bench_world.build(stack, 3, 450, threads=6))
        community = communities[0]
        # The first community's members, registered by the world's build.
        users = [user for user, index in roster if index == 0]
        count = args.rate * args.seconds
        base = (int(time.time()) % 100_000 + 1) * 10_000_000_000

        def bodies(round_: int, n: int = count) -> list[bytes]:
            first = base + round_ * 10_000_000
            return [message_update(first + i, users[i % len(users)], args.text) for i in range(n)]

        url = f"{stack.gateway_url}/webhook/{community.id}"
        headers = {"Content-Type": "application/json", SECRET_HEADER: community.secret}
        groups = process_groups(stack, cfg)
        asyncio.run(drive(url, headers, bodies(0, args.rate * 3), args.rate))
        print(f"floor: {args.text!r} at {args.rate}/s, {count} updates per round", flush=True)
        for round_ in range(1, args.rounds + 1):
            before = cpu_snapshot(groups)
            statuses = asyncio.run(drive(url, headers, bodies(round_), args.rate))
            after = cpu_snapshot(groups)
            spent = {name: (after[name] - before[name]) * 1000 / count for name in before}
            print(
                f"veil ({_shown(statuses)}): "
                + " · ".join(f"{name} {ms:.3f}" for name, ms in spent.items())
                + " CPU-ms per update",
                flush=True,
            )
            reference, shown = _reference_ms(
                bodies(100 + round_), bodies(200 + round_, args.rate * 2), args.rate
            )
            print(f"reference aiogram ({shown}): {reference:.3f} CPU-ms per update", flush=True)
            print(f"gateway / reference {spent['gateway'] / reference:.2f}", flush=True)
    finally:
        stack.stop_processes()
        lifecycle.stop(cfg)


if __name__ == "__main__":
    main()
