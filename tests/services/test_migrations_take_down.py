"""Issue 16's last migrations on databases that already hold rows: confessions
0009 (``taken_down_at``) and social 0008 (``confession_reports.outcome``).

Rows written before them stay as they were: a confession erased before 0009
is not taken for a take-down (a retried take-down queues nothing for it), a
published one is taken down once and queued again on a retry; a confession
report from before 0008 starts unsettled and then counts in its reporter's
record. Social goes down and up again.
"""

from __future__ import annotations

from services.confessions.take_down import take_down
from services.social import confession_reports, reporting
from tests.services.test_migrations import _migrate, _migrate_down, _schema_db, _sql, scratch
from tools.devstack.infra.config import InfraConfig
from veil.core.db import Database

__all__ = ["scratch"]

BEFORE = {"confessions": "0008", "social": "0007", "notifier": "head"}


async def test_take_down_and_report_outcomes_on_rows_written_before(
    infra_config: InfraConfig, scratch: Database
) -> None:
    for service, revision in BEFORE.items():
        await _migrate(infra_config, service, revision)
    await _sql(
        infra_config,
        """
        INSERT INTO confessions.communities
            (id, bot_id, sealed_token, bot_username, channel_chat_id, admin_chat_id, title)
            VALUES (1, 1, '\\x00', 'b', -1001, -1002, 'T');
        INSERT INTO confessions.confessions (community_id, number, text, status,
            idempotency_key, channel_message_id)
            VALUES (1, 1, '[deleted]', 'deleted', 'k1', 41),
                   (1, 2, 'still up', 'published', 'k2', 42);
        INSERT INTO social.confession_reports
            (confession_id, subject, community_id, weight, reason)
            VALUES (2, 's-old', 1, 20, 'spam');
        """,
    )
    for service in BEFORE:
        await _migrate(infra_config, service, "head")
    assert (
        await _sql(
            infra_config,
            "SELECT number, status, taken_down_at IS NULL FROM confessions.confessions "
            "ORDER BY number",
        )
        == "1|deleted|t\n2|published|t"
    )
    confessions_db = _schema_db(infra_config, "confessions")
    try:
        # Erased before 0009: no take-down, nothing to queue.
        assert await take_down(confessions_db, 1, 1) is None
        first = await take_down(confessions_db, 1, 2)
        again = await take_down(confessions_db, 1, 2)
    finally:
        await confessions_db.dispose()
    assert first is not None and again is not None
    assert (first.won, again.won) == (True, False)
    assert first.deletion is not None and first.deletion == again.deletion
    assert first.deletion.idempotency_key == f"unpublish:{first.confession_id}"

    # The old report starts unsettled; the take-down upholds it, in its reporter's record.
    assert await _sql(infra_config, "SELECT outcome IS NULL FROM social.confession_reports") == "t"
    assert await confession_reports.settle(scratch, 1, 2, upheld=True) == 1
    assert await confession_reports.settle(scratch, 1, 2, upheld=True) == 0
    async with scratch.write() as conn:
        assert await reporting.record(conn, 1, 10, ["s-old", "m:10"]) == (0, 1, 0)

    await _migrate_down(infra_config, "social", BEFORE["social"])
    assert await _sql(infra_config, "SELECT count(*) FROM social.confession_reports") == "1"
    await _migrate(infra_config, "social", "head")
