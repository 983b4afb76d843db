"""Issue 12 point 12: every table that grows is pruned by the process that owns it.

The suite's stack prunes every second (VEIL_RETENTION_INTERVAL_SECONDS); the
retentions are the defaults: finished outbox messages 7 days, dead letters 30
days, member events 30 days, pacers 24 hours after their last slot. Rows are
aged by writing their timestamps, then the test waits for the old ones to go
and checks that the young ones (and an old message still waiting) stay.
"""

from __future__ import annotations

import asyncio
import secrets

from tests.support.services import Services
from tests.support.threads import until
from tests.support.world import World
from tools.devstack.infra.config import InfraConfig
from tools.devstack.infra.postgres_sql import psql
from tools.devstack.stack import Stack


async def _sql(infra_config: InfraConfig, sql: str) -> str:
    return await asyncio.to_thread(psql, infra_config, sql)


async def test_old_rows_are_pruned_and_young_ones_kept(
    stack: Stack, infra_config: InfraConfig, community: World.Community, services: Services
) -> None:
    """Old and young rows of each pruned kind, then the pruner.

    One test because the same pass must prune the old rows and keep the young.
    """
    tag = secrets.token_hex(4)
    # A community of its own, so no worker ever holds a token for these messages.
    community_id = 900_000_000 + int(tag, 16) % 1_000_000
    member_id = await services.member_id(community, community.member().user_id)

    def message(key: str, status: str, age: str, not_before: str = "now()") -> str:
        return (
            "INSERT INTO notifier.outbox (community_id, chat_key, method, priority, "
            "idempotency_key, status, created_at, not_before) VALUES "
            f"({community_id}, '\\x01', 'sendMessage', 2, '{tag}:{key}', '{status}', "
            f"now() - interval '{age}', {not_before})"
        )

    def letter(outbox_id: int, age: str) -> str:
        return (
            "INSERT INTO notifier.dead_letters (outbox_id, community_id, chat_key, method, "
            "params, error_code, description, attempts, created_at) VALUES "
            f"({outbox_id}, {community_id}, '\\x01', 'sendMessage', '{{}}', 400, 'test', 1, "
            f"now() - interval '{age}')"
        )

    base = 9_000_000_000_000 + int(tag, 16)
    await _sql(
        infra_config,
        ";".join(
            [
                message("sent-old", "sent", "8 days"),
                message("dead-old", "dead", "8 days"),
                message("dropped-old", "dropped", "8 days"),
                message("sent-young", "sent", "1 day"),
                # Not finished: kept whatever its age (due in a year, never claimed).
                message("queued-old", "queued", "8 days", "now() + interval '1 year'"),
                letter(base, "31 days"),
                letter(base + 1, "29 days"),
                "INSERT INTO confessions.member_events (member_id, event_key, created_at) "
                f"VALUES ({member_id}, '{tag}:old', now() - interval '31 days'), "
                f"({member_id}, '{tag}:young', now() - interval '29 days')",
                "INSERT INTO social.pacers (key, next_allowed, scheduled_at) VALUES "
                f"('{tag}:old', now() - interval '25 hours', NULL), "
                f"('{tag}:old-batch', now() - interval '30 hours', now() - interval '26 hours'), "
                f"('{tag}:young', now() - interval '23 hours', NULL)",
            ]
        ),
    )

    async def left() -> str:
        return await _sql(
            infra_config,
            f"SELECT string_agg(k, ',') FROM ("
            "SELECT idempotency_key AS k FROM notifier.outbox "
            f"WHERE idempotency_key LIKE '{tag}:%' "
            f"UNION ALL SELECT 'letter:' || (outbox_id - {base}) FROM notifier.dead_letters "
            f"WHERE outbox_id IN ({base}, {base + 1}) "
            f"UNION ALL SELECT event_key FROM confessions.member_events "
            f"WHERE event_key LIKE '{tag}:%' "
            f"UNION ALL SELECT 'pacer:' || key FROM social.pacers WHERE key LIKE '{tag}:%') t",
        )

    expected = {
        f"{tag}:queued-old",
        f"{tag}:sent-young",
        "letter:1",
        f"{tag}:young",
        f"pacer:{tag}:young",
    }

    async def pruned() -> bool:
        return set((await left()).split(",")) == expected

    await until(pruned, "old rows were not pruned (or young ones were)", seconds=30)
