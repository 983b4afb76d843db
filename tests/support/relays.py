"""Waiting for the services' relays (veil/core/relay.py) to send on what they hold."""

from __future__ import annotations

import asyncio

from tests.support.threads import until
from tools.devstack.infra.config import InfraConfig
from tools.devstack.infra.postgres_sql import psql

_WAITING = "SELECT (SELECT count(*) FROM confessions.relay) + (SELECT count(*) FROM social.relay)"


async def relays_drained(infra_config: InfraConfig) -> None:
    """Until nothing waits in either relay: the follow-ups of comments and
    reactions (profile counts, notices) and the cards were all sent on."""

    async def drained() -> bool:
        return await asyncio.to_thread(psql, infra_config, _WAITING) == "0"

    await until(drained, "the relays never sent on what they hold")
