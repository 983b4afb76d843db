"""The aiogram Dispatcher shared by every community bot of this gateway."""

from __future__ import annotations

from aiogram import Dispatcher
from aiogram.fsm.storage.base import BaseStorage

from services.gateway.member import MemberMiddleware
from services.gateway.routers import build_root_router


def build_dispatcher(storage: BaseStorage) -> Dispatcher:
    """A dispatcher with Veil's routers, the member lookup and the given FSM storage."""
    dispatcher = Dispatcher(storage=storage)
    # After aiogram's own outer middlewares, which find the update's sender.
    dispatcher.update.outer_middleware(MemberMiddleware())
    dispatcher.include_router(build_root_router())
    return dispatcher
