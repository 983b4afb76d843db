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
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

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


@contextmanager
def running() -> Iterator[tuple[str, int]]:
    """The reference bot in a process of its own on 127.0.0.1, once it listens:
    its webhook URL and its pid (whose CPU is the yardstick)."""
    # Imported here: the bot's own process loads nothing of Veil's.
    from tools.devstack.ports import free_port
    from tools.devstack.stack import REPO_ROOT

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.bench.reference", "--port", str(port)],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        deadline = time.monotonic() + 30
        while not _listening(port):
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the reference bot did not start")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/webhook", process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


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
