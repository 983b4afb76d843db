"""The sandbox page in a real headless Chromium against the running stack.

A person writes a confession as one member, approves it as the admin in the
admin group pane, sees the post in the channel pane, opens its "💬 Comments"
deep link as a second member and comments, and the author is told. Every step
goes through the page (clicks and typing), the emulator's control API and the
real gateway, services and notifier. The last view is saved under .veil/test/screenshots/
(the README's docs/sandbox.png is a copy of it: a test run never changes a
tracked file).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.support.threads import bot_api
from tests.support.world import World
from tools.devstack.browser import chromium
from tools.devstack.stack import REPO_ROOT

SCREENSHOT = REPO_ROOT / ".veil" / "test" / "screenshots" / "sandbox.png"
# Generous: the notifier publishes and notifies on its own pace under a loaded machine.
WAIT_MS = 45_000
CONFESSION = "I still sleep with my teddy bear 🧸 and I'm 23 <3"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium()), args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        await launched.close()


async def add_member(page: Page, name: str) -> None:
    """+ Add member (unless the form is already open), type the name, open the bot."""
    form = page.locator("#add-member-form")
    # The page opens the form by itself once its first state arrives with no
    # member; a click landing just after that closes it again (the button
    # toggles), so a click that leaves the form closed is made once more.
    for _ in range(3):
        if await form.is_visible():
            break
        await page.click("#add-member")
        try:
            await expect(form).to_be_visible(timeout=2_000)
        except AssertionError:
            continue
    await page.fill("#new-member-name", name)
    await page.click("#add-member-form button[type=submit]")


async def test_confess_approve_publish_and_comment_in_the_browser(
    browser: Browser, world: World
) -> None:
    """Confess, approve, publish and comment, all in the sandbox page.

    One test because each step acts on what the one before it showed.
    """
    community = await world.create_community("Riverside College")
    page = await browser.new_page(viewport={"width": 1500, "height": 900})
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    await page.goto(f"{world.stack.emulator_url}/sandbox/?bot={community.bot_id}")
    await expect(page.locator("#status")).to_have_text("live", timeout=WAIT_MS)
    member = page.locator("#member-messages")
    admin = page.locator("#admin-messages")
    channel = page.locator("#channel-messages")

    # A member opens the bot and writes a confession with the reply keyboard.
    await add_member(page, "Alice")
    welcome = member.locator(".msg.in").first
    await expect(welcome).to_contain_text("Welcome", timeout=WAIT_MS)
    # The bot's HTML is rendered: the community's name in bold.
    await expect(welcome.locator("b", has_text="Riverside College")).to_be_visible()
    await page.locator("#member-keyboard button", has_text="New confession").click()
    await expect(member.locator(".msg.in").last).to_contain_text("Write your confession")
    await page.fill("#member-input", CONFESSION)
    await page.press("#member-input", "Enter")
    preview = member.locator(".msg.in", has_text="Preview")
    await preview.locator("button", has_text="Send").click(timeout=WAIT_MS)
    # The preview is edited in place: the same bubble now says it was received.
    received = member.locator(".msg.in", has_text="Received — confession #1")
    await expect(received).to_be_visible(timeout=WAIT_MS)
    await expect(member.locator(".msg.in", has_text="Preview")).to_have_count(0)
    await expect(received.locator(".meta")).to_contain_text("edited")
    # Member text is shown as text, never parsed as HTML.
    mine = member.locator(".msg.out", has_text="teddy bear")
    await expect(mine.locator(".text")).to_have_text(CONFESSION)
    await expect(mine.locator(".text *")).to_have_count(0)

    # The admin approves the card in the admin group pane.
    card = admin.locator(".msg", has_text="#1")
    await card.locator("button", has_text="Approve").click(timeout=WAIT_MS)
    # The card is edited in place; the admin's name is the one the page acted with.
    await expect(card.locator(".text")).to_contain_text("Approved by Admin 1", timeout=WAIT_MS)

    # The post appears in the channel, with the bot's HTML rendered.
    post = channel.locator(".msg", has_text="teddy bear")
    await expect(post).to_be_visible(timeout=WAIT_MS)
    await expect(post.locator(".text")).to_contain_text(CONFESSION)

    # A second member opens the Comments deep link and comments.
    await expect(page.locator("#add-member-form")).to_be_hidden()
    await add_member(page, "Bob")
    await expect(page.locator("#member-title")).to_contain_text("Bob")
    await expect(member.locator(".msg.in").first).to_contain_text("Welcome", timeout=WAIT_MS)
    await post.locator("button", has_text="Comments").click()
    thread = member.locator(".msg.in", has_text="No comments yet")
    await thread.locator("button", has_text="Comment").click(timeout=WAIT_MS)
    await expect(member.locator(".msg.in").last).to_contain_text("Write your comment on #1")
    await page.fill("#member-input", "Same, and I'm 31. Mine is called Mr Buttons 🧸")
    await page.press("#member-input", "Enter")
    await expect(member.locator(".msg.in", has_text="Mr Buttons").last).to_be_visible(
        timeout=WAIT_MS
    )

    # The author is told, and the post's counter follows (an edit, pushed live).
    await page.select_option("#member-select", label=f"Alice · {await _id_of(page, 'Alice')}")
    await expect(member.locator(".msg.in", has_text="New comment on confession #1")).to_be_visible(
        timeout=WAIT_MS
    )
    await expect(post.locator("button", has_text="Comments (1)")).to_be_visible(timeout=WAIT_MS)
    # "See the post" (a t.me/c/… link) points at the post in the channel pane.
    approved = member.locator(".msg.in", has_text="was approved")
    await approved.locator("a", has_text="See the post").click()
    await expect(post).to_have_class(re.compile(r"\bhighlight\b"))
    assert problems == []
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOT))
    await page.close()


async def _id_of(page: Page, name: str) -> str:
    """The user id the page gave the member called ``name``."""
    label = await page.locator("#member-select option", has_text=name).first.inner_text()
    return label.rsplit("· ", 1)[1]


async def test_formatting_edits_deletions_media_and_deep_links_render_as_telegram_shows_them(
    browser: Browser, community: World.Community
) -> None:
    """Every formatting entity, an edit, a deletion, media and a deep link in the sandbox page.

    One test because they share one browser page and chat.
    """
    dana = community.member(first_name="Dana")
    await dana.start()
    me = await bot_api(community, "getMe", {})
    link = f"https://t.me/{me['username']}?start=c_999"
    page = await browser.new_page(viewport={"width": 1500, "height": 900})
    await page.goto(f"{community.world.stack.emulator_url}/sandbox/?bot={community.bot_id}")
    chat = page.locator("#member-messages")
    await expect(page.locator("#member-title")).to_contain_text("Dana", timeout=WAIT_MS)

    # The bot's HTML, after an emoji (two UTF-16 units: the offsets must still land right).
    sent = await bot_api(
        community,
        "sendMessage",
        {
            "chat_id": dana.user_id,
            "parse_mode": "HTML",
            "text": (
                "😀 <b>bold <i>both</i></b> <u>under</u> <s>struck</s> <code>x&lt;y</code>\n"
                '<pre><code class="language-python">print(1)</code></pre>\n'
                '<tg-spoiler>hidden</tg-spoiler> <a href="https://example.org/">a link</a> '
                f'<a href="{link}">the thread</a>\n'
                "<blockquote>quoted</blockquote>\n<blockquote expandable>long quote</blockquote>"
            ),
        },
    )
    bubble = chat.locator(f'.msg[data-message-id="{sent["message_id"]}"]')
    text = bubble.locator(".text")
    await expect(text.locator("b").first).to_have_text("bold both", timeout=WAIT_MS)
    await expect(text.locator("b i")).to_have_text("both")
    await expect(text.locator("u")).to_have_text("under")
    await expect(text.locator("s")).to_have_text("struck")
    await expect(text.locator("code.e-code")).to_have_text("x<y")
    await expect(text.locator("pre")).to_have_text("print(1)")
    await expect(text.locator("pre")).to_have_attribute("data-language", "python")
    await expect(text.locator("a", has_text="a link")).to_have_attribute(
        "href", "https://example.org/"
    )
    await expect(text.locator("blockquote.e-blockquote")).to_have_text("quoted")
    await expect(text.locator("blockquote.e-expandable_blockquote")).to_have_text("long quote")
    spoiler = text.locator(".e-spoiler")
    await expect(spoiler).to_have_text("hidden")
    await expect(spoiler).not_to_have_class("e-spoiler revealed")
    await spoiler.click()
    await expect(spoiler).to_have_class("e-spoiler revealed")

    # A deep link to this bot is a /start with its payload, from the member shown.
    await text.locator("a", has_text="the thread").click()
    await expect(chat.locator(".msg.out").last).to_have_text(re.compile(r"^/start c_999"))
    await expect(chat.locator(".msg.in").last).to_contain_text(
        "Confession #999 is not available", timeout=WAIT_MS
    )

    # An edit replaces the message in place; a deletion removes it.
    count = await chat.locator(".msg").count()
    await bot_api(
        community,
        "editMessageText",
        {"chat_id": dana.user_id, "message_id": sent["message_id"], "text": "changed my mind"},
    )
    await expect(bubble.locator(".text")).to_have_text("changed my mind", timeout=WAIT_MS)
    await expect(bubble.locator(".meta")).to_contain_text("edited")
    await expect(chat.locator(".msg")).to_have_count(count)
    doomed = await bot_api(community, "sendMessage", {"chat_id": dana.user_id, "text": "doomed"})
    await expect(chat.locator(".msg", has_text="doomed")).to_have_count(1, timeout=WAIT_MS)
    await bot_api(
        community, "deleteMessage", {"chat_id": dana.user_id, "message_id": doomed["message_id"]}
    )
    await expect(chat.locator(".msg", has_text="doomed")).to_have_count(0, timeout=WAIT_MS)

    # Media are placeholders with their caption.
    await page.select_option("#member-media", "photo")
    await page.fill("#member-input", "my <i>cat</i>")
    await page.press("#member-input", "Enter")
    photo = chat.locator(".msg.out", has_text="my <i>cat</i>")
    await expect(photo.locator(".media")).to_have_text("📷 Photo", timeout=WAIT_MS)
    await expect(photo.locator(".caption")).to_have_text("my <i>cat</i>")
    await expect(photo.locator(".caption *")).to_have_count(0)
    # A member's text is text, never HTML.
    await page.fill("#member-input", "<b>not bold</b> &amp;")
    await page.press("#member-input", "Enter")
    literal = chat.locator(".msg.out", has_text="not bold")
    await expect(literal.locator(".text")).to_have_text("<b>not bold</b> &amp;", timeout=WAIT_MS)
    await expect(literal.locator(".text *")).to_have_count(0)
    await page.close()
