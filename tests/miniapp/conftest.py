"""The browser of the Mini App's tests: Debian's Chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, async_playwright

from tools.devstack.browser import chromium


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium (the sandbox tests' machinery: tools/devstack/browser.py)."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium()), args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        await launched.close()
