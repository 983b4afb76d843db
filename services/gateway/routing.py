"""Feature routers that let an update pass by when none of their handlers could take it.

aiogram walks an update through the routers in order. In every router it
meets, it wraps the router's outer middlewares, runs its root filters and then
each handler's filters until one matches: about 15–25 µs per router that takes
nothing. Veil has twenty feature routers, so a ``/me`` (the fifteenth) spent
about 310 µs in dispatch where a thread page (the first) spent 60 µs.

A handler's *keys* are a necessary condition read off one of its filters: the
callback-data prefix of a ``Pressed``, the names of an aiogram ``Command``, the
texts of a ``TextIs``, the states of a ``StateFilter`` (or a filter's own
``update_keys()``). An update has its keys too (:func:`event_keys`). A
:class:`FeatureRouter` whose every handler of the update's type has keys, none
of which the update has, cannot take it, and returns at once what aiogram's
walk would have found: nothing. A handler without keys, an outer middleware or
a sub-router makes its router take part as aiogram has it do.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from typing import Any, Protocol, runtime_checkable

from aiogram import Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.dispatcher.event.handler import FilterObject, HandlerObject
from aiogram.filters import Command, StateFilter
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message, TelegramObject

from veil.contracts.callback_packing import SEPARATOR

# ("callback", prefix), ("command", casefolded name), ("text", text), ("state", raw state)
Key = tuple[str, str | None]
Keys = frozenset[Key]

# The update types whose routers are gated; any other walks as aiogram walks it.
GATED = ("message", "callback_query")


@runtime_checkable
class KeyedFilter(Protocol):
    """A filter that tells which update keys it can match at most."""

    def update_keys(self) -> Keys:
        """Keys one of which every update this filter matches has."""
        ...


def command_keys(names: Iterable[str]) -> Keys:
    """The keys of messages that are one of these commands."""
    return frozenset(("command", name.casefold()) for name in names)


def _command_keys(command: Command) -> Keys | None:
    # A pattern can match any name; another prefix is not what event_keys reads.
    if command.prefix != "/" or not all(isinstance(c, str) for c in command.commands):
        return None
    return command_keys(command.commands)  # type: ignore[arg-type]


def _state_keys(states: Iterable[Any]) -> Keys | None:
    keys: set[Key] = set()
    for state in states:
        name = state.state if isinstance(state, State) else state
        # "*" is any state; a StatesGroup is any of its own.
        if name == "*" or not (name is None or isinstance(name, str)):
            return None
        keys.add(("state", name))
    return frozenset(keys)


def filter_keys(filter_object: FilterObject) -> Keys | None:
    """The keys of a handler's filter; None when it may match an update of any keys."""
    callback = filter_object.callback
    if isinstance(callback, Command):
        return _command_keys(callback)
    if isinstance(callback, StateFilter):
        return _state_keys(callback.states)
    if isinstance(callback, KeyedFilter):
        return callback.update_keys()
    return None


def handler_keys(handler: HandlerObject) -> Keys | None:
    """The keys of a handler's first keyed filter (all of its filters must pass)."""
    for filter_object in handler.filters or ():
        keys = filter_keys(filter_object)
        if keys is not None:
            return keys
    return None


def event_keys(event: TelegramObject, raw_state: str | None) -> tuple[Key, ...]:
    """The keys an update's message or press has."""
    if isinstance(event, CallbackQuery):
        if not event.data:
            return ()
        return (("callback", event.data.split(SEPARATOR, 1)[0]),)
    if not isinstance(event, Message):
        return ()
    keys: list[Key] = [("state", raw_state)]
    if event.text:
        keys.append(("text", event.text))
    # As aiogram's Command reads a command: the first word of the text or the
    # caption, less its one-character prefix and any "@bot".
    words = (event.text or event.caption or "").split(maxsplit=1)
    if words:
        keys.append(("command", words[0][1:].partition("@")[0].casefold()))
    return tuple(keys)


# The update being routed in this task, its state and its keys: every gated
# router asks for them, and a message's keys cost 2–3 µs to read (a dozen
# routers asked for each update's).
_routed: ContextVar[tuple[TelegramObject | None, str | None, tuple[Key, ...]]] = ContextVar(
    "veil_routed_keys", default=(None, None, ())
)


def _keys_of(event: TelegramObject, raw_state: str | None) -> tuple[Key, ...]:
    """:func:`event_keys`, read once per update (and state) in this task."""
    known, known_state, keys = _routed.get()
    if known is event and known_state == raw_state:
        return keys
    keys = event_keys(event, raw_state)
    _routed.set((event, raw_state, keys))
    return keys


class FeatureRouter(Router):
    """An aiogram router that passes by a message or a press none of its handlers
    could take (see the module's docstring)."""

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__(name=name)
        # Per update type: the counts the keys were computed at, and the keys.
        self._gates: dict[str, tuple[tuple[int, int, int], Keys | None]] = {}

    def gate(self, update_type: str) -> Keys | None:
        """The keys of every handler of ``update_type`` here; None when one of
        them, an outer middleware or a sub-router may take any update."""
        observer = self.observers[update_type]
        # A handler, middleware or sub-router added later changes the counts.
        counts = (len(observer.handlers), len(observer.outer_middleware), len(self.sub_routers))
        known = self._gates.get(update_type)
        if known is not None and known[0] == counts:
            return known[1]
        keys = self._keys(update_type)
        self._gates[update_type] = (counts, keys)
        return keys

    def _keys(self, update_type: str) -> Keys | None:
        observer = self.observers[update_type]
        if observer.outer_middleware or self.sub_routers:
            return None
        union: set[Key] = set()
        for handler in observer.handlers:
            keys = handler_keys(handler)
            if keys is None:
                return None
            union |= keys
        return frozenset(union)

    def could_take(self, update_type: str, event: TelegramObject, raw_state: str | None) -> bool:
        """Whether a handler here may take the update (False: none can)."""
        if update_type not in GATED:
            return True
        keys = self.gate(update_type)
        return keys is None or not keys.isdisjoint(_keys_of(event, raw_state))

    async def propagate_event(self, update_type: str, event: TelegramObject, **kwargs: Any) -> Any:
        """aiogram's walk through this router, unless no handler of it could take the update."""
        if not self.could_take(update_type, event, kwargs.get("raw_state")):
            return UNHANDLED
        return await super().propagate_event(update_type, event, **kwargs)
