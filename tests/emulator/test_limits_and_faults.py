"""Flood limits (switchable), armed faults, reset, and the emulator as a process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from tests.support.emulator import Emulator, started_member
from tools.devstack.ports import free_port

USER = 4_200_000_001


async def test_flood_limits_answer_429_with_retry_after(emulator: Emulator) -> None:
    bot = emulator.bot()
    await started_member(emulator, bot, USER)
    await bot.send_message(USER, "one")
    await bot.send_message(USER, "two")  # limits are off by default
    _, limits = await emulator.control("POST", "/flood", {"enabled": True})
    assert limits["enabled"] and limits["per_private_chat_per_second"] == 1
    await bot.send_message(USER, "three")
    with pytest.raises(TelegramRetryAfter) as private:
        await bot.send_message(USER, "four")
    assert private.value.retry_after >= 1
    status, body = await emulator.raw(bot.token, "sendMessage", chat_id=USER, text="five")
    assert status == 429 and body["ok"] is False and body["error_code"] == 429
    assert body["parameters"]["retry_after"] >= 1
    assert (
        body["description"] == f"Too Many Requests: retry after {body['parameters']['retry_after']}"
    )

    await emulator.act("/chats", {"bot_id": bot.id, "chat_id": -2001, "type": "supergroup"})
    for i in range(20):
        await bot.send_message(-2001, f"group {i}")
    with pytest.raises(TelegramRetryAfter) as group:
        await bot.send_message(-2001, "group 21")
    # The group's minute, not the bot's second, is what ran out.
    assert 30 <= group.value.retry_after <= 60

    other = emulator.bot()
    members = [USER + 1 + i for i in range(31)]
    for member in members:
        await started_member(emulator, other, member)
    for member in members[:30]:
        await other.send_message(member, "broadcast")
    with pytest.raises(TelegramRetryAfter) as overall:
        await other.send_message(members[30], "broadcast")
    assert overall.value.retry_after == 1  # the bot's 30 per second
    _, stats = await emulator.control("GET", "/stats")
    assert stats["too_many_requests"] == 4
    await emulator.control("POST", "/flood", {"enabled": False})
    await bot.send_message(USER, "limits off again")


async def test_armed_faults(emulator: Emulator) -> None:
    bot = emulator.bot()
    await started_member(emulator, bot, USER)
    await emulator.act("/fail", {"method": "sendMessage", "error_code": 502, "count": 2})
    for _ in range(2):
        with pytest.raises(TelegramServerError, match="Bad Gateway"):
            await bot.send_message(USER, "x")
    assert (await bot.send_message(USER, "through")).text == "through"
    await emulator.act("/fail", {"method": "sendMessage", "error_code": 429, "retry_after": 3})
    with pytest.raises(TelegramRetryAfter) as limited:
        await bot.send_message(USER, "x")
    assert limited.value.retry_after == 3
    await emulator.act("/fail", {"method": "sendMessage", "disconnect": True})
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(USER, "x")
    status, body = await emulator.control("POST", "/fail", {"error_code": 200})
    assert status == 400 and "error_code" in body["error"]
    _, calls = await emulator.control("GET", f"/bots/{bot.id}/calls?method=sendMessage")
    assert [c["ok"] for c in calls["calls"]] == [False, False, True, False, False]


async def test_reset_forgets_everything(emulator: Emulator) -> None:
    bot = emulator.bot()
    await started_member(emulator, bot, USER)
    await bot.send_message(USER, "remember me")
    await bot.set_webhook("http://127.0.0.1:9/hook")
    await emulator.act("/fail", {"method": "getMe", "error_code": 500})
    await emulator.act("/flood", {"enabled": True})
    await emulator.act("/reset")
    assert await emulator.messages(bot.id, USER) == []
    _, stats = await emulator.control("GET", "/stats")
    assert stats["calls"] == 0 and stats["messages_sent"] == 0
    assert (await bot.get_me()).id == bot.id  # the armed fault is gone
    assert (await bot.get_webhook_info()).url == ""
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(USER, "still there?")  # the member's chat is gone too
    _, limits = await emulator.control("GET", "/flood")
    assert limits["enabled"] is True  # flood settings are configuration, kept


REPO_ROOT = Path(__file__).resolve().parents[2]


def test_runs_as_a_process_and_stops_on_sigterm() -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.telegram_emulator", "--port", str(port)],
        cwd=REPO_ROOT,
        env=os.environ | {"PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "emulator never answered /healthz"
                time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
