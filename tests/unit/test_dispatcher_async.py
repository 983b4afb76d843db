"""aiogram runs a synchronous filter or handler in a thread (``asyncio.to_thread``) on
every update it meets: the gateway's dispatcher has none."""

from __future__ import annotations

from aiogram import Router
from aiogram.fsm.storage.memory import MemoryStorage

from services.gateway.dispatcher import build_dispatcher
from services.gateway.metrics import install_handler_probe


def _sync_callables(router: Router) -> list[str]:
    found = []
    for name, observer in router.observers.items():
        for handler in observer.handlers:
            callables = [handler, *(handler.filters or [])]
            found += [f"{router.name}.{name}: {c.callback!r}" for c in callables if not c.awaitable]
        found += [
            f"{router.name}.{name} (router filter): {f.callback!r}"
            for f in observer._handler.filters or []
            if not f.awaitable
        ]
    for sub in router.sub_routers:
        found += _sync_callables(sub)
    return found


def test_every_filter_and_handler_is_a_coroutine() -> None:
    dispatcher = build_dispatcher(MemoryStorage())
    install_handler_probe(dispatcher)
    handlers = sum(
        len(observer.handlers) for r in dispatcher.chain_tail for observer in r.observers.values()
    )
    assert handlers > 20  # the walk did see Veil's routers
    assert _sync_callables(dispatcher) == []
