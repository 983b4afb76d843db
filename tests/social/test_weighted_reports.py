"""Trust-weighted reports through the emulator (issue 16): fresh accounts cannot
hide an established member's comment, established members can, and a reporter
whose reports admins keep restoring loses weight. Admins see reasons and the
weighted total, never the reporters."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.moderation import set_report_threshold, wait_for
from tests.support.services import Services
from tests.support.threads import (
    admin_press,
    button,
    open_thread,
    publish,
    replica_caught_up,
    report,
    write_comment,
)
from tests.support.world import Member, World
from tools.devstack.infra.config import InfraConfig
from tools.devstack.infra.postgres_sql import psql


async def _establish(
    services: Services,
    infra_config: InfraConfig,
    community: World.Community,
    members: list[Member],
    number: int,
) -> None:
    """Give ``members`` a standing: 40 days in the community, two approved
    confessions and two comments that were never hidden. Time cannot pass in a
    test and approvals are tested elsewhere, so the history is written
    directly; the comments go through the social service."""
    for member in members:
        await member.start()
    # Members are found by internal id: their Telegram ids are sealed.
    ids = [await services.member_id(community, member.user_id) for member in members]
    await asyncio.to_thread(
        psql,
        infra_config,
        "UPDATE confessions.members SET created_at = now() - interval '40 days', "
        f"confessions_approved = 2 WHERE community_id = {community.id} "
        f"AND id IN ({', '.join(map(str, ids))})",
    )
    thread = await services.thread(community, number)
    for member in members:
        member_id = await services.member_id(community, member.user_id)
        for i in range(2):
            await services.comment(thread, member_id, f"regular {i} of {member_id}")


async def _admin_chat(community: World.Community) -> list[dict[str, Any]]:
    return await community.world.chat_messages(community.bot_id, community.admin_chat_id)


async def _visible_to_all(
    community: World.Community, infra_config: InfraConfig, number: int
) -> str:
    await replica_caught_up(infra_config)
    return str((await open_thread(community.member(), number))["text"])


async def test_fresh_accounts_cannot_hide_an_established_members_comment_established_can(
    community: World.Community, services: Services, infra_config: InfraConfig
) -> None:
    author = community.member()
    await author.start()
    number = await publish(author, infra_config, "weighted reports")
    writer = community.member()
    await _establish(services, infra_config, community, [writer], number)
    thread = await write_comment(writer, await open_thread(writer, number), "an unpopular view")
    await write_comment(writer, thread, "another unpopular view")
    await replica_caught_up(infra_config)
    # The writer's two comments are the 3rd and 4th of the thread (after theirs).
    first, second = 3, 4

    # Three fresh accounts weigh 0.2 each: 0.6 of the default threshold 3.
    fresh = [community.member() for _ in range(3)]
    for reporter in fresh:
        answered = await report(reporter, number, first, "Harassment")
        assert answered["answer"]["text"] == "Reported. Thank you."
    again = await report(fresh[0], number, first, "Spam")
    assert again["answer"]["text"] == "You reported this already."
    assert "an unpopular view" in await _visible_to_all(community, infra_config, number)

    # Three established members (about 1 each) reach it.
    established = [community.member() for _ in range(3)]
    await _establish(services, infra_config, community, established, number)
    await replica_caught_up(infra_config)
    for reporter, reason in zip(established, ("Spam", "Spam", "Personal information"), strict=True):
        await report(reporter, number, second, reason)
    shown = await _visible_to_all(community, infra_config, number)
    assert "another unpopular view" not in shown and "an unpopular view" in shown

    messages = await wait_for(
        lambda: _admin_chat(community),
        lambda ms: any("was hidden after 3 reports" in m.get("text", "") for m in ms),
        "no hidden-comment card",
    )
    card = next(m for m in messages if "was hidden after 3 reports" in m.get("text", ""))
    assert "another unpopular view" in card["text"]
    assert "⚖️ Weighted 3 of 3" in card["text"]
    assert "Reasons: spam: 2 · personal information: 1" in card["text"]
    # Never who reported: no reporter's id or name anywhere in the admin chat.
    for message in messages:
        for reporter in [*fresh, *established, writer]:
            assert str(reporter.user_id) not in str(message)


async def test_a_reporter_whose_reports_keep_being_restored_loses_weight(
    community: World.Community, infra_config: InfraConfig
) -> None:
    # A full report weighs 1; five fresh accounts (0.2 each) reach this one.
    await set_report_threshold(community, "1")
    author = community.member()
    await author.start()
    number = await publish(author, infra_config, "a reporter with a record")
    writer = community.member()
    thread = await write_comment(writer, await open_thread(writer, number), "fine comment one")
    await write_comment(writer, thread, "fine comment two")
    await replica_caught_up(infra_config)

    serial = community.member()
    for reporter in [serial, *(community.member() for _ in range(4))]:
        await report(reporter, number, 1, "Other")
    assert "fine comment one" not in await _visible_to_all(community, infra_config, number)
    messages = await wait_for(
        lambda: _admin_chat(community),
        lambda ms: any("fine comment one" in m.get("text", "") for m in ms),
        "no hidden-comment card",
    )
    card = next(m for m in messages if "fine comment one" in m.get("text", ""))
    assert "⚖️ Weighted 1 of 1" in card["text"]
    restored = await admin_press(community, card, button(card, "Restore"))
    assert restored["answer"]["text"] == "↩️ Restored"
    assert "fine comment one" in await _visible_to_all(community, infra_config, number)

    # The same mix again: the serial reporter's report now weighs nothing, so
    # four fresh accounts (0.8) do not hide the second comment; a fifth does.
    for reporter in [serial, *(community.member() for _ in range(4))]:
        answered = await report(reporter, number, 2, "Other")
        assert answered["answer"]["text"] == "Reported. Thank you."
    assert "fine comment two" in await _visible_to_all(community, infra_config, number)
    await report(community.member(), number, 2, "Other")
    assert "fine comment two" not in await _visible_to_all(community, infra_config, number)
