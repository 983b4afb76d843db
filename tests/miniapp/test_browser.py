"""The moderation Mini App in a real headless Chromium against the running stack.

The page is opened as a Telegram client opens a Mini App: its URL with
``#tgWebAppData=<initData>`` (from the emulator, signed with the bot's token).
The admin sees the queue oldest first and approves a confession in the page
while another admin presses its card: one decision wins, both views say whose,
and the post reaches the channel once. A rejection with a typed reason, a
search by #N, the figures and the rules form follow. The views are saved under
.veil/test/screenshots/ (the README's docs/miniapp.png is a copy: a test run
never changes a tracked file).
"""

from __future__ import annotations

import asyncio
import json
import re
from urllib.parse import quote

from playwright.async_api import Browser, expect

from tests.support.miniapp import channel_posts, pending_confession
from tests.support.moderation import (
    add_to_admin_chat,
    admin_press,
    admin_says,
    card_decided,
    wait_for,
)
from tests.support.services import Services
from tests.support.threads import button, flagged_comment, replica_caught_up
from tests.support.world import World, new_user_id
from tools.devstack.infra.config import InfraConfig
from tools.devstack.stack import REPO_ROOT
from veil.v1 import confessions_pb2

SCREENSHOTS = REPO_ROOT / ".veil" / "test" / "screenshots"
WAIT_MS = 45_000
# A second admin, pressing the card while Ann decides in the app.
BOB = new_user_id()
CONFESSIONS = (
    "I have been pretending to understand linear algebra for three semesters 📐",
    "I switched majors twice and my parents still think I'm pre-med",
    "Whoever keeps leaving oat milk in the 3rd floor fridge: thank you, I drink it <3",
    "I sing in the library elevator when it's empty. Duets: +44 7700 900129",
)


async def test_approve_and_reject_in_the_mini_app(
    browser: Browser, world: World, services: Services, infra_config: InfraConfig
) -> None:
    """The admins' Mini App queue: flags shown, an approve racing the card's, a reject.

    One test because each step acts on the queue the last one left.
    """
    community = await world.create_community("Riverside College")
    # A filter word flags a confession for a closer look (shown in the queue).
    await admin_says(community, 1, "/settings words add fridge")
    pending = [await pending_confession(community, text) for text in CONFESSIONS]
    first, first_card = pending[0]
    launch = await world.control(
        "POST", f"/bots/{community.bot_id}/users/1/webapp", {"first_name": "Ann"}
    )
    page = await browser.new_page(viewport={"width": 480, "height": 620})
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    await page.goto(
        f"{world.stack.gateway_url}/miniapp/{community.id}/"
        f"#{launch['fragment']}&tgWebAppVersion=8.0&tgWebAppPlatform=web"
    )

    # The queue, oldest first, with its count; member text shown as text.
    items = page.locator("#queue-items > li")
    await expect(items).to_have_count(4, timeout=WAIT_MS)
    await expect(page.locator("#count")).to_have_text("4")
    await expect(page.locator("#title")).to_have_text("Riverside College · Moderation")
    await expect(items.nth(0).locator(".number")).to_have_text(f"#{first}")
    await expect(items.nth(2).locator(".text")).to_have_text(CONFESSIONS[2])
    await expect(items.nth(2).locator(".flag")).to_have_text("⚠️ contains “fridge”")
    # The doxxing guard's flag (rule flag), as on the card.
    await expect(items.nth(3).locator(".pii")).to_have_text("⚠️ contains a phone number")
    await expect(items.nth(2).locator(".pii")).to_be_hidden()
    await expect(items.nth(0).locator(".reject-form")).to_be_hidden()

    # ✅ Approve the oldest in the page while Bob presses its card's ✅ Approve
    # in the admin chat at the same moment: one decision wins, both views say
    # whose, and the post reaches the channel once.
    await add_to_admin_chat(community, [BOB])
    _, pressed = await asyncio.gather(
        items.nth(0).locator("button.approve").click(),
        admin_press(community, BOB, first_card, button(first_card, "Approve"), first_name="Bob"),
    )
    notice = page.locator("#notice")
    await expect(notice).to_have_text(
        re.compile(rf"^#{first}: (✅ Approved by Ann|Already handled: ✅ Approved by Bob)$"),
        timeout=WAIT_MS,
    )
    winner = "Bob" if "Already handled" in (await notice.text_content() or "") else "Ann"
    assert ("Already handled" in str(pressed.get("answer"))) == (winner == "Ann"), pressed
    await expect(items).to_have_count(3)
    await expect(page.locator("#count")).to_have_text("3")
    await card_decided(community, first_card, f"✅ Approved by {winner}")
    await wait_for(lambda: channel_posts(community, first), bool, "never published")

    # ❌ Reject the next one with a typed reason.
    second = pending[1][0]
    row = items.nth(0)
    await row.locator("button.reject").click()
    await expect(row.locator("input.typed")).to_be_hidden()
    await row.locator("select.reason").select_option(label="Type a reason…")
    await row.locator("input.typed").fill("Please keep other people's food out of it")
    await row.locator("button.confirm-reject").click()
    await expect(page.locator("#notice")).to_have_text(
        f"#{second}: ❌ Rejected by Ann: Please keep other people's food out of it",
        timeout=WAIT_MS,
    )
    await expect(items).to_have_count(2)
    assert len(await channel_posts(community, first)) == 1
    assert problems == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "miniapp.png"))

    # 📊 The figures count what happened.
    await page.click("#tab-figures")
    cards = page.locator("#figure-cards .figure")
    await expect(cards).to_have_count(6, timeout=WAIT_MS)
    await expect(cards.nth(0)).to_contain_text("4confessions in 14 days")
    await expect(cards.nth(1)).to_contain_text("50%approval rate")
    await expect(cards.nth(5)).to_contain_text("2pending now")
    await expect(page.locator("#per-day .bar")).to_have_count(14)
    await expect(page.locator("#no-comments")).to_be_visible()
    assert problems == []
    await page.screenshot(path=str(SCREENSHOTS / "miniapp-figures.png"))

    # 🔎 Search finds a confession by #N; nothing is hidden yet.
    await page.click("#tab-comments")
    await expect(page.locator("#hidden-empty")).to_be_visible(timeout=WAIT_MS)
    await page.fill("#search-query", f"#{first}")
    await page.press("#search-query", "Enter")
    found = page.locator("#search-results .confession")
    await expect(found).to_contain_text(CONFESSIONS[0], timeout=WAIT_MS)
    await expect(found.locator("b")).to_have_text(re.compile(rf"^#{first} · (approved|published)"))
    # A comment the doxxing guard flagged shows the flag as its card does.
    await replica_caught_up(infra_config)
    _, pseudonym = await flagged_comment(community, first, "text me on +44 7700 900127")
    await page.fill("#search-query", pseudonym)
    await page.press("#search-query", "Enter")
    comment = page.locator("#search-results li.comment")
    await expect(comment.locator(".text")).to_have_text(
        "text me on +44 7700 900127", timeout=WAIT_MS
    )
    await expect(comment.locator(".flag")).to_have_text("⚠️ contains a phone number")

    # ⚙️ The rules form changes a rule (and only what the admin changed).
    await page.click("#tab-rules")
    cooldown = page.locator("#rules-form input[name=cooldown]")
    await expect(cooldown).to_have_value("off", timeout=WAIT_MS)
    await cooldown.fill("10m")
    reasons = page.locator("#rules-form textarea[name=reasons]")
    await reasons.fill((await reasons.input_value()) + "\nMentions a course code")
    await page.click("#save-rules")
    await expect(page.locator("#notice")).to_have_text("Rules saved.", timeout=WAIT_MS)
    rules = await services.communities.GetCommunityRules(
        confessions_pb2.GetCommunityRulesRequest(community_id=community.id)
    )
    assert rules.cooldown_seconds == 600 and rules.max_length == 4000
    assert list(rules.filter_words) == ["fridge"]
    assert rules.reject_reasons[-1] == "Mentions a course code"
    # A bad value is refused with the rule's own message; nothing changes.
    await page.fill("#rules-form input[name=maxlen]", "99999")
    await page.click("#save-rules")
    await expect(page.locator("#notice.error")).to_contain_text("maxlen must be", timeout=WAIT_MS)
    assert (
        await services.communities.GetCommunityRules(
            confessions_pb2.GetCommunityRulesRequest(community_id=community.id)
        )
    ) == rules
    assert problems == [] or all("400" in p for p in problems), problems
    await page.screenshot(path=str(SCREENSHOTS / "miniapp-rules.png"))

    # Telegram's theme (tgWebAppThemeParams in the fragment) colours the page.
    theme = quote(json.dumps({"bg_color": "#17212b", "text_color": "#f5f5f5"}))
    dark = await browser.new_page(viewport={"width": 480, "height": 620})
    await dark.goto(
        f"{world.stack.gateway_url}/miniapp/{community.id}/"
        f"#{launch['fragment']}&tgWebAppThemeParams={theme}"
    )
    await expect(dark.locator("#queue-items > li")).to_have_count(2, timeout=WAIT_MS)
    colours = await dark.evaluate(
        "[getComputedStyle(document.body).backgroundColor, getComputedStyle(document.body).color]"
    )
    assert colours == ["rgb(23, 33, 43)", "rgb(245, 245, 245)"]


async def test_the_sandbox_opens_the_mini_app_from_the_admin_group(
    browser: Browser, world: World
) -> None:
    community = await world.create_community("Riverside College")
    number, _ = await pending_confession(community, "waiting for the sandbox admin")
    page = await browser.new_page(viewport={"width": 1500, "height": 900})
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    await page.goto(f"{world.stack.emulator_url}/sandbox/?bot={community.bot_id}")
    await expect(page.locator("#status")).to_have_text("live", timeout=WAIT_MS)
    # The admin asks for the panel in the admin group: a t.me link to the bot.
    await page.fill("#admin-input", "/panel")
    await page.press("#admin-input", "Enter")
    admin = page.locator("#admin-messages")
    opener = admin.locator(".msg.in", has_text="waiting for review").locator(
        "button", has_text="Open moderation"
    )
    # Following it as the admin gives the web_app button in their private chat,
    # which opens the Mini App with initData signed for the bot.
    async with page.expect_popup() as opened:
        await opener.click(timeout=WAIT_MS)
    app = await opened.value
    app.on("pageerror", lambda error: problems.append(str(error)))
    await expect(app.locator("#queue-items > li")).to_have_count(1, timeout=WAIT_MS)
    await expect(app.locator("#queue-items .number")).to_have_text(f"#{number}")
    assert app.url.startswith(f"{world.stack.gateway_url}/miniapp/{community.id}/#tgWebAppData=")
    assert problems == []
