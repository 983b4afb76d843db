"""The emulator's webhook retry schedules: the suite's short one and Telegram's hour."""

from __future__ import annotations

import itertools

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from tests.support.emulator import Emulator, Receiver
from tools.telegram_emulator.app import create_app
from tools.telegram_emulator.retry import RetrySchedule

USER = 4_100_000_077


def test_short_schedule_is_the_suites_few_seconds() -> None:
    short = RetrySchedule.short()
    assert short.attempts == 8
    assert short.pauses == (0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0)
    assert 5 < short.total_seconds < 5.5
    assert RetrySchedule.named("short") == short


def test_telegram_schedule_grows_for_about_an_hour() -> None:
    telegram = RetrySchedule.named("telegram")
    pauses = telegram.pauses
    assert pauses[0] == 1.0
    # Growing pauses (each at least the previous, but the last that is cut to fit).
    assert all(b >= a for a, b in itertools.pairwise(pauses[:-1]))
    assert max(pauses) == 300.0
    assert telegram.total_seconds == 3600.0
    # Many attempts early (a failover is ridden out), sparse ones later.
    assert sum(1 for p in pauses if p < 60) >= 6
    assert 15 <= telegram.attempts <= 25


def test_unknown_schedule_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown webhook retry schedule"):
        RetrySchedule.named("forever")


async def test_delivery_follows_the_schedule_given(receiver: Receiver) -> None:
    """Four attempts with three pauses: three failures are ridden out, four are not."""
    schedule = RetrySchedule((0.01, 0.02, 0.04))
    server = TestServer(create_app(retry_schedule=schedule), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            emu = Emulator(str(server.make_url("")).rstrip("/"), http)
            bot = emu.bot()
            assert await bot.set_webhook(receiver.url)
            receiver.statuses = [500, 502, 503]
            done = await emu.act(f"/bots/{bot.id}/users/{USER}/messages", {"text": "hi"})
            assert (done["status"], done["attempts"]) == (200, 4)
            receiver.statuses = [500, 500, 500, 500]
            failed = await emu.act(f"/bots/{bot.id}/users/{USER}/messages", {"text": "again"})
            assert (failed["status"], failed["attempts"]) == (500, 4)
            _, stats = await emu.control("GET", "/stats")
            assert stats["counters"]["webhook_retries"] == 6
            await bot.session.close()
    finally:
        await server.close()
