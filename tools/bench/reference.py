"""The yardstick of ``make bench``: stock aiogram answering trivial handlers.

aiogram 3's own ``SimpleRequestHandler`` with ``handle_in_background=False``,
two handlers (``/start`` and any other message) that return their answer, which
aiogram writes into the webhook response: no Bot API call, no Redis, no
database. Run on loopback by the bench (``python -m tools.bench.reference
--port N``) and driven by the same k6 at a fixed rate; its CPU per update is
the reference Veil's whole path is compared with.
"""

from __future__ import annotations

import argparse

from aiogram import Bot, Dispatcher, Router
from aiogram.filters import CommandStart
from aiogram.methods import SendMessage
from aiogram.types import Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

router = Router()


@router.message(CommandStart())
async def start(message: Message) -> SendMessage:
    """Greet, in the webhook response."""
    return message.answer("Welcome!")


@router.message()
async def echo(message: Message) -> SendMessage:
    """Answer anything else, in the webhook response."""
    return message.answer("Got it.")


def main() -> None:
    """Serve the reference bot on 127.0.0.1."""
    parser = argparse.ArgumentParser(prog="tools.bench.reference")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    bot = Bot("123456:reference-bot-token-not-used-for-any-call")
    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    app = web.Application()
    SimpleRequestHandler(dispatcher, bot, handle_in_background=False).register(app, path="/webhook")
    setup_application(app, dispatcher, bot=bot)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
