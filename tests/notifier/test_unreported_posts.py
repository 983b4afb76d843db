"""A channel post whose id never reached the confessions service is reported again.

The worker reports a post's id (RecordPublication) right after sending it,
retrying a few times; when every retry failed, the row stays ``unreported``
and a worker reports it again later (services/notifier/worker/reports.py).
The failure is set up in the database (the confession back to ``approved``
without its post's id, the row unreported), as every retry failing leaves it.
"""

from __future__ import annotations

import asyncio
import secrets

from sqlalchemy import select

from services.notifier.models import outbox as outbox_table
from services.notifier.recipients import chat_key
from tests.support.moderation import admin_press, card, confess, number_of
from tests.support.outbox import wait_for
from tests.support.threads import button
from tests.support.world import World
from tools.devstack.infra.config import InfraConfig
from tools.devstack.infra.postgres_sql import psql
from veil.core.db import Database
from veil.core.sealing import Keyring


def _confession(cfg: InfraConfig, community: World.Community, number: int) -> str:
    return psql(
        cfg,
        "SELECT status || ':' || coalesce(channel_message_id::text, '') FROM"
        f" confessions.confessions WHERE community_id = {community.id} AND number = {number}",
    )


async def test_a_post_whose_report_failed_is_reported_again(
    world: World, notifier_db: Database, infra_config: InfraConfig, seal_keys: Keyring
) -> None:
    community = await world.create_community("Unreported post")
    member = community.member()
    await member.start()
    number = number_of(await confess(member, f"post me {secrets.token_hex(3)}"))
    pending = await card(community, number)
    await admin_press(community, 1, pending, button(pending, "Approve"))

    async def post_row() -> object:
        async with notifier_db.read_own() as conn:
            return (
                await conn.execute(
                    select(outbox_table).where(
                        outbox_table.c.community_id == community.id,
                        # The channel, by its keyed hash (no chat id is stored).
                        outbox_table.c.chat_key
                        == chat_key(seal_keys, community.id, community.channel_id),
                        outbox_table.c.idempotency_key.like("publish:%"),
                    )
                )
            ).one_or_none()

    row = await wait_for(
        post_row,
        lambda r: r is not None and r.status == "sent" and not r.unreported,  # type: ignore[attr-defined]
        within=60,
    )
    message_id = row.sent_message_id  # type: ignore[attr-defined]
    assert _confession(infra_config, community, number) == f"published:{message_id}"

    # Every RecordPublication retry failed: the confession has no post id.
    psql(
        infra_config,
        "UPDATE confessions.confessions SET status = 'approved', channel_message_id = NULL"
        f" WHERE community_id = {community.id} AND number = {number};"
        f" UPDATE notifier.outbox SET unreported = true WHERE id = {row.id}",  # type: ignore[attr-defined]
    )
    assert _confession(infra_config, community, number) == "approved:"

    async def confession() -> str:
        return await asyncio.to_thread(_confession, infra_config, community, number)

    # Reported within a lease (6 s in the suite) and a refresh period (2 s).
    await wait_for(confession, lambda found: found == f"published:{message_id}", within=30)
    # The worker marks the row reported once RecordPublication answered: that
    # commit can land a moment after the confession reads published.
    row = await wait_for(
        post_row,
        lambda r: r is not None and not r.unreported,  # type: ignore[attr-defined]
        within=10,
    )
    assert row.sent_message_id == message_id  # type: ignore[attr-defined]
