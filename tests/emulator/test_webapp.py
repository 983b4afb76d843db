"""Mini App support in the emulator: signed initData, menu buttons, web_app buttons."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import parse_qsl, quote

import pytest

from services.gateway.miniapp.auth import AuthError, verify
from tests.support.emulator import Emulator, started_member


async def test_init_data_is_signed_with_the_bots_token(emulator: Emulator) -> None:
    bot = emulator.bot()
    # Before the bot called the Bot API, its token is unknown: nothing to sign with.
    status, refused = await emulator.control("POST", f"/bots/{bot.id}/users/42/webapp", {})
    assert status == 409 and "token is unknown" in refused["error"]
    await bot.get_me()
    auth_date = int(time.time()) - 10
    status, launch = await emulator.control(
        "POST",
        f"/bots/{bot.id}/users/42/webapp",
        {"first_name": "Ann", "auth_date": auth_date, "start_param": "queue"},
    )
    assert status == 200, launch
    fields = dict(parse_qsl(launch["init_data"]))
    assert launch["fragment"] == "tgWebAppData=" + quote(launch["init_data"], safe="")
    assert json.loads(fields["user"])["id"] == 42
    assert (fields["auth_date"], fields["start_param"]) == (str(auth_date), "queue")
    # The documented algorithm, written out once more here.
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()) if k != "hash")
    secret = hmac.new(b"WebAppData", bot.token.encode(), hashlib.sha256).digest()
    assert fields["hash"] == hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    # And the gateway's check accepts it (and nothing signed for another bot).
    assert verify(launch["init_data"], bot.token, max_age_seconds=60).id == 42
    other = emulator.bot()
    with pytest.raises(AuthError) as refused_other:
        verify(launch["init_data"], other.token, max_age_seconds=60)
    assert refused_other.value.status == 401


async def test_menu_buttons_are_per_private_chat_or_the_default(emulator: Emulator) -> None:
    bot = emulator.bot()
    await started_member(emulator, bot, 7)
    await emulator.act(
        "/chats",
        {"bot_id": bot.id, "chat_id": -1001, "type": "supergroup", "title": "g", "admins": [7]},
    )
    app = {"type": "web_app", "text": "Moderation", "web_app": {"url": "https://a.example/"}}
    status, _ = await emulator.raw(bot.token, "setChatMenuButton", chat_id=7, menu_button=app)
    assert status == 200
    _, mine = await emulator.raw(bot.token, "getChatMenuButton", chat_id=7)
    _, default = await emulator.raw(bot.token, "getChatMenuButton")
    assert (mine["result"], default["result"]) == (app, {"type": "default"})
    status, group = await emulator.raw(
        bot.token, "setChatMenuButton", chat_id=-1001, menu_button=app
    )
    assert status == 400 and "private chat" in group["description"]
    status, _ = await emulator.raw(
        bot.token,
        "setChatMenuButton",
        chat_id=7,
        menu_button={"type": "web_app", "text": "x", "web_app": {}},
    )
    assert status == 400
