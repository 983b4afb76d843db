"""Confessions 0010 on a database that holds rows: the admin cards' message ids
go (the notifier edits a card by its own record of it), the confessions stay,
and a downgrade brings the table back empty."""

from __future__ import annotations

from services.confessions.dashboard_repository import DashboardRepository
from tests.services.test_migrations import _migrate, _migrate_down, _schema_db, _sql, scratch
from tools.devstack.infra.config import InfraConfig
from veil.core.db import Database

__all__ = ["scratch"]

_TABLE = "SELECT to_regclass('confessions.admin_cards') IS NOT NULL"


async def test_the_card_ids_go_and_the_cards_are_still_rebuilt(
    infra_config: InfraConfig, scratch: Database
) -> None:
    await _migrate(infra_config, "confessions", "0009")
    await _sql(
        infra_config,
        """
        INSERT INTO confessions.communities
            (id, bot_id, sealed_token, bot_username, channel_chat_id, admin_chat_id, title)
            VALUES (1, 1, '\\x00', 'b', -1001, -1002, 'T');
        INSERT INTO confessions.confessions (community_id, number, text, status, idempotency_key)
            VALUES (1, 1, 'waiting for a decision', 'pending', 'k1');
        INSERT INTO confessions.admin_cards (confession_id, community_id, message_id)
            SELECT id, 1, 77 FROM confessions.confessions;
        """,
    )
    await _migrate(infra_config, "confessions", "head")
    assert await _sql(infra_config, _TABLE) == "f"
    db = _schema_db(infra_config, "confessions")
    try:
        cid = int(await _sql(infra_config, "SELECT id FROM confessions.confessions"))
        card = await DashboardRepository(db).card(1, cid)
    finally:
        await db.dispose()
    # What a Mini App decision rebuilds its edit from is all still there.
    assert card is not None
    assert (card.confession.number, card.confession.status) == (1, "pending")

    await _migrate_down(infra_config, "confessions", "0009")
    assert await _sql(infra_config, _TABLE) == "t"
    assert await _sql(infra_config, "SELECT count(*) FROM confessions.admin_cards") == "0"
    assert await _sql(infra_config, "SELECT count(*) FROM confessions.confessions") == "1"
    await _migrate(infra_config, "confessions", "head")
    assert await _sql(infra_config, _TABLE) == "f"
