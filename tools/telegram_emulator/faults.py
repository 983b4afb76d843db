"""Failures a test asks for: "the next N sendMessage calls answer 502".

Besides Telegram's error answers, a fault can drop the connection without
answering (``disconnect``): what a client sees on a reset or a stale
keep-alive connection, where it cannot know whether the call happened. With
``after`` the call *is* made and only its answer is lost (dropped after
``hold_seconds``): Telegram accepted a message the client never hears of.
With ``delay`` the call is made and answered, ``hold_seconds`` late: a slow
Telegram, or a window in which the client's own world can change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tools.telegram_emulator.errors import BotApiError

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: forced by the emulator",
    403: "Forbidden: bot was blocked by the user",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


class Disconnect(Exception):
    """The call is to be answered by closing the connection."""


@dataclass
class Fault:
    """One armed failure rule."""

    method: str | None
    error_code: int
    description: str
    retry_after: int | None
    remaining: int
    bot_id: int | None = None
    chat_id: int | None = None
    disconnect: bool = False
    # The call is made, then its answer is dropped after hold_seconds.
    after: bool = False
    hold_seconds: float = 0.0
    # With after: the answer is sent after hold_seconds instead of dropped.
    delay: bool = False

    @classmethod
    def from_request(cls, body: dict[str, Any]) -> Fault:
        """Parse the control API's body; raises ValueError on nonsense."""
        delay = bool(body.get("delay", False))
        after = delay or bool(body.get("after", False))
        disconnect = after or bool(body.get("disconnect", False))
        code = int(body.get("error_code", 0 if disconnect else -1))
        if not (400 <= code <= 599 or (disconnect and code == 0)):
            raise ValueError("error_code must be 4xx or 5xx (or disconnect: true)")
        retry_after = int(body.get("retry_after", 1 if code == 429 else 0)) or None
        template = body.get("description") or _DEFAULT_DESCRIPTIONS.get(code, f"Error {code}")
        method = body.get("method")
        return cls(
            method=method.lower() if method else None,
            error_code=code,
            description=template.format(retry_after=retry_after),
            retry_after=retry_after,
            remaining=int(body.get("count", 1)),
            bot_id=body.get("bot_id"),
            chat_id=body.get("chat_id"),
            disconnect=disconnect,
            after=after,
            hold_seconds=float(body.get("hold_seconds", 0)),
            delay=delay,
        )

    def matches(self, method: str, bot_id: int, chat_id: Any) -> bool:
        """Whether this rule fires for a call."""
        return (
            self.remaining > 0
            and (self.method is None or self.method == method)
            and (self.bot_id is None or self.bot_id == bot_id)
            and (self.chat_id is None or str(self.chat_id) == str(chat_id))
        )


@dataclass
class Faults:
    """The armed rules, consumed in the order they were armed."""

    rules: list[Fault] = field(default_factory=list)

    def arm(self, fault: Fault) -> None:
        """Add a rule."""
        self.rules.append(fault)

    def check(self, method: str, bot_id: int, chat_id: Any) -> Fault | None:
        """Raise the first matching rule's error (and count it down).

        An ``after`` rule is returned instead: the call goes ahead, its answer is
        lost (or, ``delay``, sent late).
        """
        for rule in self.rules:
            if rule.matches(method, bot_id, chat_id):
                rule.remaining -= 1
                self.rules = [r for r in self.rules if r.remaining > 0]
                if rule.after:
                    return rule
                if rule.disconnect:
                    raise Disconnect(method)
                raise BotApiError(rule.error_code, rule.description, retry_after=rule.retry_after)
        return None

    def clear(self) -> None:
        """Disarm everything."""
        self.rules.clear()
