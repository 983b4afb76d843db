"""Bot API errors in Telegram's own shape.

Telegram answers every failed call with ``{"ok": false, "error_code": N,
"description": "..."}`` and the same HTTP status; a 429 adds
``"parameters": {"retry_after": seconds}``. The descriptions below are the
ones Telegram sends, so a client's error handling can be tested for real.
"""

from __future__ import annotations

from typing import Any


class BotApiError(Exception):
    """A failed Bot API call; ``payload()`` is what goes on the wire."""

    def __init__(self, error_code: int, description: str, *, retry_after: int | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        """The JSON body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> BotApiError:
    """400 with Telegram's ``Bad Request: `` prefix."""
    return BotApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> BotApiError:
    """403 with Telegram's ``Forbidden: `` prefix."""
    return BotApiError(403, f"Forbidden: {detail}")


def too_many_requests(retry_after: int) -> BotApiError:
    """429 with ``retry_after``, as Telegram's flood control answers."""
    return BotApiError(
        429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
    )


def unauthorized() -> BotApiError:
    """401: the token is not a bot's (or was revoked)."""
    return BotApiError(401, "Unauthorized")


def not_found() -> BotApiError:
    """404: no such Bot API method."""
    return BotApiError(404, "Not Found")
