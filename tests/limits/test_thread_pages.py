"""Issue 12 point 1: a thread page always fits one message, counted as Telegram counts."""

from __future__ import annotations

from typing import Any

from tests.support.services import Services
from tests.support.threads import (
    button,
    open_thread,
    publish,
    replica_caught_up,
    reply,
    write_comment,
)
from tests.support.world import World
from tools.devstack.infra.config import InfraConfig
from veil.contracts.lengths import MESSAGE_TEXT_LIMIT
from veil.core.telegram_text import utf16_len

# Two UTF-16 units each: emoji-heavy text reaches the limit at half the characters.
EMOJI = "🙂"


def _fits(page: dict[str, Any]) -> None:
    """The page was delivered whole: a thread message with its buttons, within the limit."""
    assert utf16_len(page["text"]) <= MESSAGE_TEXT_LIMIT
    assert button(page, "➕ Comment")


async def _commenter_is_done(member: Any) -> None:
    """The writing state ended with the page: nothing is left to cancel."""
    await member.send("/cancel")
    assert (await reply(member))["text"] == "Nothing to cancel."


async def test_a_confession_near_the_limit_with_a_long_comment(
    community: World.Community, infra_config: InfraConfig
) -> None:
    author = community.member()
    await author.start()
    confession = "x" * 2000 + EMOJI * 1000  # 4,000 units, the longest a confession may be
    number = await publish(author, infra_config, confession)
    reader = community.member()
    comment = "c" * 10 + EMOJI * 990  # 1,000 characters, 1,990 units
    page = await write_comment(reader, await open_thread(reader, number), comment)
    _fits(page)
    assert f"#{number}" in page["text"] and "💬 1 comment" in page["text"]
    # The comment is shown whole; the confession (it is in the channel) gives way, cut with "…".
    assert comment in page["text"] and f"#{number}\n" + "x" * 1000 in page["text"]
    assert confession not in page["text"] and page["text"].count("…") == 1
    await _commenter_is_done(reader)
    # The next comment is a new one, not merged into the first.
    again = await write_comment(reader, page, "a second, short comment")
    _fits(again)
    assert "💬 2 comments" in again["text"] and "a second, short comment" in again["text"]
    await replica_caught_up(infra_config)
    _fits(await open_thread(community.member(), number))


async def test_a_page_of_five_long_emoji_comments(
    community: World.Community, infra_config: InfraConfig, services: Services
) -> None:
    author = community.member()
    await author.start()
    number = await publish(author, infra_config, "what is the best emoji?")
    thread = await services.thread(community, number)
    for i in range(4):
        member_id = await services.member_id(community, community.member().user_id)
        await services.comment(thread, member_id, f"comment {i} " + EMOJI * 990)
    reader = community.member()
    page = await write_comment(reader, await open_thread(reader, number), "last " + EMOJI * 995)
    _fits(page)
    assert "💬 5 comments" in page["text"]
    for i in range(4):
        assert f"comment {i} " + EMOJI * 100 in page["text"]
    assert "last " + EMOJI * 100 in page["text"]
    await _commenter_is_done(reader)
    await replica_caught_up(infra_config)
    _fits(await open_thread(community.member(), number))
