"""Traffic that touches every process: a confession, a comment, reports to the threshold."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.support.moderation import set_report_threshold
from tests.support.threads import (
    button,
    comment_row,
    open_thread,
    press,
    publish,
    replica_caught_up,
    write_comment,
)
from tests.support.world import Member, World
from tools.devstack.infra.config import InfraConfig

# Distinctive, so that a leak is found by a plain substring search.
CONFESSION_TEXT = "Observability confession: I hum the Tetris theme in lifts"
COMMENT_TEXT = "Observability comment: the lift hums along"
MEMBER_NAME = "Zebulon Quixotic"


@dataclass(frozen=True)
class Load:
    """What was done, for the tests to look for (or look for the absence of)."""

    author: Member
    members: list[Member]
    number: int
    # The webhook answer of the report that hid the comment and queued the admin card.
    hiding_report: dict[str, Any]


async def report_to_threshold(
    community: World.Community, infra_config: InfraConfig, threshold: int = 3
) -> Load:
    """A confession, a comment on it, ``threshold`` reports that hide the comment,
    and Telegram delivering the last report again (a duplicate, dropped).

    The last report makes the social service queue a card for the admins
    through the notifier; a worker sends it.
    """
    # Fresh accounts weigh 0.2 each: the community's threshold is set to theirs.
    await set_report_threshold(community, f"{threshold * 0.2:g}")
    author = community.member(first_name=MEMBER_NAME)
    await author.start()
    number = await publish(author, infra_config, CONFESSION_TEXT)
    commenter = community.member(first_name=MEMBER_NAME)
    await write_comment(commenter, await open_thread(commenter, number), COMMENT_TEXT)
    await replica_caught_up(infra_config)
    reporters = [community.member(first_name=MEMBER_NAME) for _ in range(threshold)]
    last: dict[str, Any] = {}
    for reporter in reporters:
        view = await open_thread(reporter, number)
        ask = next(d for label, d in comment_row(view, 1) if label == "⚠️")
        picker = await press(reporter, view, ask)
        last = await reporter.press(view["message_id"], button(picker, "Spam"))
        assert last["status"] == 200
    again = await community.world.control(
        "POST", f"/bots/{community.bot_id}/redeliver", {"update_id": last["update_id"]}
    )
    assert again["status"] == 200
    return Load(author, [author, commenter, *reporters], number, last)
