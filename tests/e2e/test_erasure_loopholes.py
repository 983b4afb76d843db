"""Issue 12, points 10, 11 and 13: /deleteme is not a reset button, and admin
commands cannot link a pseudonym to an author.

What protects the community (bans, the cooldown, the daily cap, one report and
one reaction per comment) is kept under the member's protected subject, so a
member who erases themselves and joins again finds it as they left it. Bans are
listed and lifted one by one, never per member.
"""

from __future__ import annotations

import asyncio
import re

from services.notifier.recipients import open_call
from tests.support.moderation import admin_says, confess, number_of, set_report_threshold, shown
from tests.support.relays import relays_drained
from tests.support.services import Services
from tests.support.threads import (
    button,
    comment_row,
    open_thread,
    press,
    publish,
    replica_caught_up,
    reply,
    report,
    rows,
    until,
)
from tests.support.world import Member, World
from tools.devstack.infra.config import InfraConfig
from tools.devstack.infra.postgres_sql import psql
from veil.core.sealing import Keyring
from veil.v1 import common_pb2, confessions_pb2, social_pb2


async def erase(member: Member) -> None:
    """/deleteme → 🗑 Erase everything, through the bot."""
    await member.send("/deleteme")
    ask = await reply(member)
    erased = await press(member, ask, button(ask, "Erase everything"))
    assert erased["text"].startswith("🗑 Done.")


async def said_after(member: Member, text: str) -> list[str]:
    """What the bot said to the member after the member sent ``text``."""
    before = len(await member.bot_messages())
    await member.send(text)
    return [shown(m) for m in (await member.bot_messages())[before:]]


async def standing(services: Services, community: World.Community, user_id: int) -> bool:
    """Whether the Telegram user is banned in the community now."""
    registered = await services.members.RegisterMember(
        confessions_pb2.RegisterMemberRequest(
            actor=common_pb2.Actor(community_id=community.id, telegram_user_id=user_id)
        )
    )
    return bool(registered.standing.banned)


async def _sql(infra_config: InfraConfig, sql: str) -> str:
    return await asyncio.to_thread(psql, infra_config, sql)


async def test_a_banned_member_is_still_banned_after_erasing_themselves(
    community: World.Community, services: Services
) -> None:
    author = community.member()
    await author.start()
    number = number_of(await confess(author, "I am about to be banned"))
    banned = await admin_says(community, 1, f"/ban #{number} evading bans")
    assert shown(banned).startswith(f"🚫 Banned confession #{number}")

    await erase(author)
    await author.start()
    answers = await said_after(author, "✍️ New confession")
    assert any("banned in this community" in a for a in answers), answers
    assert await standing(services, community, author.user_id)
    assert f"confession #{number}" in shown(await admin_says(community, 1, "/bans"))
    # Lifting the ban reaches the member who joined again.
    assert shown(await admin_says(community, 1, f"/unban #{number}")).startswith("✅ Unbanned")
    assert not await standing(services, community, author.user_id)


async def test_the_cooldown_and_the_daily_cap_survive_erasure(
    community: World.Community,
) -> None:
    assert "Saved" in shown(await admin_says(community, 1, "/settings cooldown 10m"))
    waiting = community.member()
    await waiting.start()
    assert "waiting for review" in shown(await confess(waiting, "the first of many"))
    await erase(waiting)
    await waiting.start()
    assert "Please wait about" in shown(await confess(waiting, "and again, fresh"))

    await admin_says(community, 1, "/settings cooldown off")
    assert "Saved" in shown(await admin_says(community, 1, "/settings cap 1"))
    capped = community.member()
    await capped.start()
    assert "waiting for review" in shown(await confess(capped, "my one for today"))
    await erase(capped)
    await capped.start()
    assert "daily limit" in shown(await confess(capped, "a second one today"))


async def test_one_account_cannot_hide_a_comment_by_reporting_erasing_and_rejoining(
    community: World.Community, infra_config: InfraConfig, services: Services
) -> None:
    host, writer, troll = community.member(), community.member(), community.member()
    number = await publish(host, infra_config, "a thread with a comment someone dislikes")
    writer_id = await services.member_id(community, writer.user_id)
    target = await services.comment(
        await services.thread(community, number), writer_id, "a perfectly fine comment"
    )
    await replica_caught_up(infra_config)

    answers = []
    # Three fresh accounts' reports reach this threshold (0.2 each).
    await set_report_threshold(community, "0.6")
    for attempt in range(3):
        answers.append((await report(troll, number, 1))["answer"]["text"])
        if attempt < 2:
            await erase(troll)
            # A report is three updates now (open, ⚠️, a reason): the member's
            # rate limit (10 at once, 30 a minute) is let refill.
            await asyncio.sleep(3)
    assert answers == [
        "Reported. Thank you.",
        "You reported this already.",
        "You reported this already.",
    ]
    state = await _sql(
        infra_config, f"SELECT reports, status FROM social.comments WHERE id = {target.id}"
    )
    assert state == "1|visible"
    await replica_caught_up(infra_config)
    assert "a perfectly fine comment" in (await open_thread(writer, number))["text"]


async def test_likes_and_reactions_received_are_not_farmed_by_erasing_and_rejoining(
    community: World.Community, infra_config: InfraConfig, services: Services
) -> None:
    host, writer, fan = community.member(), community.member(), community.member()
    number = await publish(host, infra_config, "a thread with a comment someone loves")
    writer_id = await services.member_id(community, writer.user_id)
    target = await services.comment(
        await services.thread(community, number), writer_id, "farm my likes"
    )
    await replica_caught_up(infra_config)

    for attempt in range(3):
        thread = await open_thread(fan, number)
        label, like = comment_row(thread, 1)[0]  # "1. 👍 n"
        assert "✅" not in label  # the member who joined again has no reaction of their own
        await press(fan, thread, like)
        if attempt < 2:
            await erase(fan)
    counts = await _sql(
        infra_config, f"SELECT likes, dislikes FROM social.comments WHERE id = {target.id}"
    )
    assert counts == "1|0"
    # The reactions are counted by their follow-ups, through the social relay.
    await relays_drained(infra_config)
    profile = await services.members.GetProfile(
        confessions_pb2.GetProfileRequest(
            actor=common_pb2.Actor(community_id=community.id, telegram_user_id=writer.user_id)
        )
    )
    assert profile.reactions_received == 1


async def test_bans_are_listed_and_lifted_per_ban_never_per_member(
    community: World.Community, infra_config: InfraConfig, services: Services
) -> None:
    author, host = community.member(), community.member()
    await author.start()
    number = number_of(await confess(author, "banned under two names"))
    thread_number = await publish(host, infra_config, "a thread the author comments in")
    author_id = await services.member_id(community, author.user_id)
    comment = await services.comment(
        await services.thread(community, thread_number), author_id, "hello from the author"
    )
    pseudonym = comment.pseudonym
    await admin_says(community, 1, f"/ban #{number}")

    # The pseudonym was never banned: the answer is the one any unbanned name
    # gets, whether or not its writer is banned under another label.
    unban = await admin_says(community, 1, f"/unban {pseudonym}")
    assert shown(unban) == f"No such ban: {pseudonym}."
    stranger = await admin_says(community, 1, "/unban Nobody Here 1")
    assert shown(stranger) == "No such ban: Nobody Here 1."
    assert await standing(services, community, author.user_id)

    # Two bans of one member are two entries, each with its id.
    await admin_says(community, 1, f"/ban {pseudonym} 12h")
    listed = shown(await admin_says(community, 1, "/bans"))
    assert listed.startswith("Bans (2)")
    entries = dict(
        (label, int(ban_id))
        for ban_id, label in re.findall(r"• (\d+) (confession #\d+|\w+ \w+ \d+) ·", listed)
    )
    assert set(entries) == {f"confession #{number}", pseudonym}

    lifted = await admin_says(community, 1, f"/unban {pseudonym}")
    assert shown(lifted) == f"✅ Unbanned {pseudonym}."
    assert await standing(services, community, author.user_id)  # still banned as #N
    listed = shown(await admin_says(community, 1, "/bans"))
    assert listed.startswith("Bans (1)") and f"confession #{number}" in listed

    by_id = await admin_says(community, 1, f"/unban {entries[f'confession #{number}']}")
    assert shown(by_id).startswith("✅ Unbanned ban ")
    assert not await standing(services, community, author.user_id)
    assert shown(await admin_says(community, 1, "/bans")) == "Nobody is banned."


async def test_erasure_corrects_the_comment_counter_of_channel_posts(
    world: World, community: World.Community, infra_config: InfraConfig, services: Services
) -> None:
    host, leaver, stayer = community.member(), community.member(), community.member()
    number = await publish(host, infra_config, "a post whose counter counts", channel_post=True)
    thread = await services.thread(community, number)
    leaver_id = await services.member_id(community, leaver.user_id)
    stayer_id = await services.member_id(community, stayer.user_id)
    await services.comment(thread, leaver_id, "first of mine")
    await services.comment(thread, stayer_id, "I stay")
    await services.comment(thread, leaver_id, "second of mine")

    async def counter_reads(label: str) -> bool:
        posts = await world.chat_messages(community.bot_id, community.channel_id)
        return [text for p in posts for row in rows(p) for text, _ in row] == [label]

    await until(lambda: counter_reads("💬 Comments (3)"), "never counted 3", seconds=30)
    await erase(leaver)
    await until(lambda: counter_reads("💬 Comments (1)"), "the counter kept erased comments", 30)


async def test_erasure_withdraws_the_hidden_comment_card_of_the_writer(
    world: World,
    community: World.Community,
    infra_config: InfraConfig,
    services: Services,
    seal_keys: Keyring,
) -> None:
    host, writer = community.member(), community.member()
    number = await publish(host, infra_config, "a thread with a comment that gets hidden")
    thread = await services.thread(community, number)
    writer_id = await services.member_id(community, writer.user_id)
    comment = await services.comment(thread, writer_id, "words the admins must not keep")
    for _ in range(3):  # three fresh accounts (0.2 each) reach a threshold of 0.6
        reporter = await services.member_id(community, community.member().user_id)
        await services.social.ReportComment(
            social_pb2.ReportCommentRequest(
                comment_id=comment.id,
                member_id=reporter,
                thread=thread,
                rules=common_pb2.CommentRules(report_threshold_hundredths=60),
            )
        )

    async def admin_chat() -> list[dict[str, object]]:
        return await world.chat_messages(community.bot_id, community.admin_chat_id)

    async def carded() -> bool:
        return any("must not keep" in shown(m) for m in await admin_chat())

    await until(carded, "the hidden comment was never carded", seconds=30)
    await erase(writer)

    async def withdrawn() -> bool:
        cards = await admin_chat()
        return not any("must not keep" in shown(m) for m in cards) and any(
            shown(m) == "⚠️ A hidden comment\n[withdrawn]" and not rows(m) for m in cards
        )

    await until(withdrawn, "the hidden comment's card kept its text", seconds=30)
    # Parameters are sealed: open every one the queue still holds.
    sealed = await _sql(
        infra_config,
        "SELECT idempotency_key || ' ' || encode(sealed, 'hex') FROM notifier.outbox "
        f"WHERE sealed IS NOT NULL AND community_id = {community.id}",
    )
    kept = [
        params
        for line in sealed.splitlines()
        if line
        for _, params in [open_call(seal_keys, line.split()[0], bytes.fromhex(line.split()[1]))]
        if "must not keep" in str(params)
    ]
    assert kept == []
