"""A confession's life through the emulator: card → decision → channel post → author told."""

from __future__ import annotations

from tests.support.moderation import (
    admin_press,
    card,
    chat,
    confess,
    current,
    number_of,
    shown,
    wait_for,
)
from tests.support.threads import button, rows
from tests.support.world import World


async def test_approve_publishes_with_a_working_deep_link_and_tells_the_author(
    community: World.Community,
) -> None:
    author = community.member(first_name="Zelda")
    await author.start()
    number = number_of(await confess(author, "I <3 borrowing pens & never returning them"))
    pending = await card(community, number)
    assert "I &lt;3 borrowing pens &amp; never returning them" in pending["html"]
    assert "Author so far: ✅ 0 approved · ❌ 0 rejected" in shown(pending)
    assert set(rows_labels(pending)) == {
        "✅ Approve",
        "❌ Reject",
        "📝 Reject with reason",
        "🚫 Ban author",
        "⚠️ Warn",
        "👻 Shadow-ban",
    }
    pressed = await admin_press(community, 1, pending, button(pending, "Approve"), "Ann")
    assert pressed["answer"]["text"] == "✅ Approved by Ann"
    decided = await current(community, community.admin_chat_id, pending["message_id"])
    assert shown(decided).endswith("✅ Approved by Ann") and not rows(decided)

    posts = await wait_for(
        lambda: chat(community, community.channel_id),
        lambda ms: any(shown(m).startswith(f"#{number}") for m in ms),
        "the confession never reached the channel",
    )
    post = next(m for m in posts if shown(m).startswith(f"#{number}"))
    assert "I &lt;3 borrowing pens &amp; never returning them" in post["html"]
    link = button(post, "💬 Comments")
    assert link.startswith("https://t.me/") and link.endswith(f"?start=c_{number}")
    # The deep link opens the thread (the thread reads the published status).
    reader = community.member()
    await reader.start(link.split("?start=")[1])
    thread = await reader.last()
    assert thread["text"].startswith(f"#{number}\nI <3 borrowing pens")

    notice = await wait_for(
        author.last,
        lambda m: "was approved" in shown(m),
        "the author was never told",
    )
    assert f"/{post['message_id']}" in notice["html"]
    assert f"start=c_{number}" in notice["html"]


def rows_labels(message: dict[str, object]) -> list[str]:
    """Every inline button label of a message."""
    return [label for row in rows(message) for label, _ in row]  # type: ignore[arg-type]
