"""The reply slot: the update's last call rides in the 200, the calls before it go out in order.

Pure: no stack. A call is a recording awaitable standing in for an aiogram
method bound to a bot (the slot only awaits it or hands it to the 200).
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Any

import pytest
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery

from services.gateway.webhook_reply import (
    ReplySlot,
    closing,
    drop_held,
    in_reply,
    opening,
    send_held,
)


class Call:
    """An awaitable Bot API call that records when it is made (and may be refused)."""

    def __init__(self, name: str, made: list[str], refusal: str | None = None) -> None:
        self.name, self._made, self._refusal = name, made, refusal

    def __await__(self) -> Generator[Any, None, None]:
        self._made.append(self.name)
        if self._refusal is not None:
            raise TelegramBadRequest(AnswerCallbackQuery(callback_query_id="q"), self._refusal)
        yield from asyncio.sleep(0).__await__()


def _run(body: Any) -> Any:
    return asyncio.run(body())


def test_calls_before_the_last_go_out_in_order_and_the_last_is_held() -> None:
    made: list[str] = []
    slot = ReplySlot()

    async def update() -> None:
        token = opening(slot)
        await in_reply(Call("answer", made))  # type: ignore[arg-type]
        await in_reply(Call("edit", made))  # type: ignore[arg-type]
        await send_held()  # a direct call is about to go out
        made.append("direct")
        await in_reply(Call("last", made))  # type: ignore[arg-type]
        closing(token)

    _run(update)
    assert made == ["answer", "edit", "direct"]
    assert slot.method.name == "last"  # type: ignore[union-attr]


def test_a_closed_slot_is_never_sent_again_and_later_calls_go_at_once() -> None:
    made: list[str] = []
    slot = ReplySlot()

    async def update() -> None:
        token = opening(slot)
        await in_reply(Call("last", made))  # type: ignore[arg-type]
        closing(token)
        # A task the handler left behind keeps the update's context.
        opening(slot)
        await send_held()
        await in_reply(Call("later", made))  # type: ignore[arg-type]

    _run(update)
    assert made == ["later"]
    assert slot.method.name == "last"  # type: ignore[union-attr]


def test_a_dropped_call_is_not_made_and_a_fine_refusal_is_no_error() -> None:
    made: list[str] = []
    slot = ReplySlot()

    async def update() -> None:
        token = opening(slot)
        await in_reply(Call("answer", made))  # type: ignore[arg-type]
        drop_held()
        await in_reply(Call("old query", made, "query is too old"), fine=("query is too old",))  # type: ignore[arg-type]
        await in_reply(Call("edit", made))  # type: ignore[arg-type]
        closing(token)

    _run(update)
    assert made == ["old query"]
    assert slot.method.name == "edit"  # type: ignore[union-attr]


def test_a_refusal_that_is_not_fine_fails_the_next_call() -> None:
    made: list[str] = []
    slot = ReplySlot()

    async def update() -> None:
        token = opening(slot)
        try:
            await in_reply(Call("edit", made, "message to edit not found"))  # type: ignore[arg-type]
            await in_reply(Call("next", made))  # type: ignore[arg-type]
        finally:
            closing(token)

    with pytest.raises(TelegramBadRequest):
        _run(update)
    assert made == ["edit"]
