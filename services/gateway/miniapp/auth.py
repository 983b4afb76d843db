"""Who is calling the Mini App's API: ``initData`` checked as Telegram specifies.

From https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app:
the data-check-string is every received field but ``hash``, as ``key=value``
(values URL-decoded), sorted by key and joined with line feeds; the secret key
is HMAC-SHA256 of the bot token with the key ``"WebAppData"``; ``hash`` must be
the hex HMAC-SHA256 of the data-check-string with that secret key. On top,
``auth_date`` must be recent (``miniapp_init_data_max_age_seconds``) and the user
a member of the community's admin chat (the cached ``getChatMember`` check the
card buttons use).

The client sends it as ``Authorization: tma <initData>``.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

import orjson

# A client clock slightly ahead of ours is not an attack.
CLOCK_SKEW_SECONDS = 60
MAX_INIT_DATA_BYTES = 4096
SCHEME = "tma "


class AuthError(Exception):
    """Refused initData: ``status`` 401 (not Telegram's, stale) or 403 (not an admin)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class WebAppUser:
    """The Telegram user the initData vouches for (kept in memory, never returned)."""

    id: int
    first_name: str


def secret_key(bot_token: str) -> bytes:
    """HMAC_SHA256(key="WebAppData", msg=bot_token)."""
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def data_check_string(fields: dict[str, str]) -> str:
    """Every field but ``hash``, ``key=value`` sorted by key, joined by line feeds."""
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def _fields(init_data: str) -> dict[str, str]:
    if not init_data or len(init_data.encode()) > MAX_INIT_DATA_BYTES:
        raise AuthError(401, "missing or oversized initData")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise AuthError(401, "malformed initData") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise AuthError(401, "malformed initData (a field given twice)")
    return fields


def verify(
    init_data: str, bot_token: str, *, max_age_seconds: int, now: float | None = None
) -> WebAppUser:
    """The user of valid, fresh initData signed for ``bot_token``; AuthError(401) otherwise."""
    fields = _fields(init_data)
    received = fields.get("hash", "")
    expected = hmac.new(
        secret_key(bot_token), data_check_string(fields).encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, received.lower()):
        raise AuthError(401, "initData is not signed by this community's bot")
    try:
        auth_date = int(fields["auth_date"])
        user = orjson.loads(fields["user"])
        user_id = int(user["id"])
        first_name = str(user.get("first_name") or "Admin")
    except (KeyError, ValueError, TypeError, orjson.JSONDecodeError):
        raise AuthError(401, "initData lacks auth_date or user") from None
    current = time.time() if now is None else now
    if current - auth_date > max_age_seconds or auth_date - current > CLOCK_SKEW_SECONDS:
        raise AuthError(401, "initData is stale; reopen the Mini App")
    return WebAppUser(user_id, first_name[:64])


def init_data_of(authorization: str | None) -> str:
    """The initData of an ``Authorization: tma <initData>`` header."""
    if not authorization or not authorization.startswith(SCHEME):
        raise AuthError(401, "send initData as 'Authorization: tma <initData>'")
    return authorization[len(SCHEME) :].strip()
