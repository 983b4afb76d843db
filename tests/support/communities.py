"""Communities made straight in the confessions schema, for tests of its repositories."""

from __future__ import annotations

import itertools
import time

from services.confessions import decision
from services.confessions.communities_repository import CommunitiesRepository
from services.confessions.decision import Decided
from services.confessions.rows import CommunityRow
from services.confessions.sealed import MemberSeal
from veil.core.db import Database

_bot_ids = itertools.count(int(time.time()) % 100_000 * 1000 + 8_100_000_000)


async def new_community(database: Database, seal: MemberSeal, name: str) -> CommunityRow:
    """A community of bot ``@{name}_bot`` with a well-formed token (the gateways
    serve every community, this one too), channel -1 and admin chat -2."""
    bot_id = next(_bot_ids)
    return await CommunitiesRepository(database, seal).upsert_community(
        bot_id=bot_id,
        bot_token=f"{bot_id}:{'x' * 30}",
        bot_username=f"{name}_bot",
        channel_chat_id=-1,
        admin_chat_id=-2,
        title=name.title(),
    )


async def approve(
    database: Database, seal: MemberSeal, community_id: int, confession_id: int
) -> Decided | None:
    """Admin "A" approves the confession, as ModerateConfession does."""
    return await decision.decide(
        database,
        seal,
        community_id,
        confession_id,
        to="approved",
        decision="approve",
        moderator="A",
        reason="",
    )
