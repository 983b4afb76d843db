"""Run the Telegram Bot API emulator: ``python -m tools.telegram_emulator``."""

from __future__ import annotations

import argparse
import logging
import os

from aiohttp import web

from tools.telegram_emulator.app import create_app
from tools.telegram_emulator.retry import SCHEDULES, RetrySchedule


def main() -> None:
    """Serve on 127.0.0.1 (``VEIL_EMULATOR_HOST``/``VEIL_EMULATOR_PORT`` or flags)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default=os.environ.get("VEIL_EMULATOR_HOST", "127.0.0.1"))
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("VEIL_EMULATOR_PORT", "58081"))
    )
    parser.add_argument(
        "--flood-limits", action="store_true", help="enforce Telegram's flood limits from the start"
    )
    parser.add_argument(
        "--webhook-retries",
        choices=SCHEDULES,
        default=os.environ.get("VEIL_EMULATOR_WEBHOOK_RETRIES", "short"),
        help="short (about 6 s, the suite's) or telegram (growing pauses for about an hour)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    web.run_app(
        create_app(
            flood_limits=args.flood_limits,
            retry_schedule=RetrySchedule.named(args.webhook_retries),
        ),
        host=args.host,
        port=args.port,
        access_log=None,
        print=lambda line: logging.getLogger("emulator").info(line),
    )


if __name__ == "__main__":
    main()
