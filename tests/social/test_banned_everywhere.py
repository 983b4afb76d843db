"""A ban holds on every path (issue 16): a banned member cannot comment, reply,
react or report, through the thread's buttons, forged callback data, a draft
started before the ban, or the Mini App's API (admins only)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from tests.support.miniapp import call, init_data
from tests.support.moderation import admin_says, shown
from tests.support.stale_press import stale_press
from tests.support.threads import (
    button,
    comment_row,
    open_thread,
    publish,
    replica_caught_up,
    reply,
    write_comment,
)
from tests.support.world import Member, World
from tools.devstack.infra.config import InfraConfig
from tools.devstack.infra.postgres_sql import psql
from veil.contracts.callbacks import CommentAction, CommentButton, Compose


async def _press(member: Member, view: dict[str, Any], data: str) -> str:
    """Press and return the answer; members are rate limited in the suite too, so a
    press answered "going a bit fast" (or dropped silently after it) is made again."""
    for _ in range(20):
        pressed = await member.press(view["message_id"], data)
        answer = (pressed.get("answer") or {}).get("text") or ""
        if answer and "going a bit fast" not in answer:
            return str(answer)
        await asyncio.sleep(1)
    raise AssertionError("the press was never answered")


async def test_a_banned_member_cannot_comment_reply_react_or_report_by_any_path(
    community: World.Community, infra_config: InfraConfig
) -> None:
    author = community.member()
    await author.start()
    number = await publish(author, infra_config, "a ban on every path")
    other = community.member()
    await write_comment(other, await open_thread(other, number), "someone else's comment")
    member = community.member()
    written = await write_comment(member, await open_thread(member, number), "before the ban")
    pseudonym = re.search(r"2\. (\w+ \w+ \d+) ·", shown(written))
    assert pseudonym is not None
    target = int(next(d for label, d in comment_row(written, 1) if label == "⚠️").split(":")[2])

    # A draft started before the ban is not stored after it.
    await member.press(written["message_id"], button(written, "➕ Comment"))
    banned = await admin_says(community, 1, f"/ban {pseudonym.group(1)} 1d")
    assert shown(banned).startswith("🚫 Banned")
    await member.send("written while banned")
    assert "banned" in shown(await reply(member))

    view = await open_thread(member, number)
    buttons_shown = {
        "➕ Comment": button(view, "➕ Comment"),
        "↩️ reply": next(d for label, d in comment_row(view, 1) if label == "↩️"),
        "👍": next(d for label, d in comment_row(view, 1) if "👍" in label),
        "👎": next(d for label, d in comment_row(view, 1) if "👎" in label),
        "⚠️": next(d for label, d in comment_row(view, 1) if label == "⚠️"),
    }
    for path, data in buttons_shown.items():
        answer = await _press(member, view, data)
        assert "banned" in answer, path
    # Forged callback data (a client sends what it was never shown): a reason
    # pressed without the picker, a reply and a reaction built by hand.
    for forged in (
        CommentAction(CommentButton.REPORT, target, number, page=0, sort=0, value=1).pack(),
        CommentAction(CommentButton.UP, target, number, page=0, sort=0, value=1).pack(),
        Compose(number=number, parent=target).pack(),
    ):
        assert await stale_press(community, member.user_id, view, forged) == 200
    # The forged reply asked for no text: what they write now is not a comment.
    await member.send("a reply while banned")
    await replica_caught_up(infra_config)
    thread = shown(await open_thread(author, number))
    assert "while banned" not in thread and "👍 0  👎 0" in thread
    counted = await asyncio.to_thread(
        psql,
        infra_config,
        "SELECT (SELECT count(*) FROM social.reports WHERE comment_id = "
        f"{target}) + (SELECT count(*) FROM social.reactions WHERE comment_id = {target})",
    )
    assert counted == "0"

    # The Mini App answers admins only: the banned member's own initData is refused.
    data = await init_data(community, member.user_id, first_name="Mallory")
    assert (await call(community, "comments/hidden", data)).status == 403
    decision = await call(
        community, f"comments/{target}/decision", data, {"action": "delete", "number": number}
    )
    assert decision.status == 403
