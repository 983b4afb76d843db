"""``make up`` / ``make down`` / ``make status``: the whole system on this machine.

    python -m tools.devstack up      # infra + emulator + services + gateway, detached
    python -m tools.devstack down    # stop everything (data is kept under .veil/dev)
    python -m tools.devstack status

Without ``VEIL_BOT_TOKEN`` a demo community runs against the Telegram emulator.
With it, Veil talks to Telegram: then ``VEIL_PUBLIC_URL`` (an HTTPS URL that
reaches the gateway's port), ``VEIL_CHANNEL_ID`` and ``VEIL_ADMIN_CHAT_ID`` are
needed too.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request

from tools.devstack.environment import SERVICES, WORKERS
from tools.devstack.infra import lifecycle
from tools.devstack.infra.config import DEFAULT_ROOT, InfraConfig
from tools.devstack.stack import Stack

DEMO_CHANNEL = -1007000000001
DEMO_ADMIN_CHAT = -1007000000002
DEMO_ADMIN = 900001
DEMO_MEMBER = 1001


def _stack() -> Stack:
    cfg = InfraConfig(root=DEFAULT_ROOT)
    # Spans go to .veil/dev/traces/<process>.jsonl (README: "Observability").
    traces = cfg.root / "traces"
    if os.environ.get("VEIL_BOT_TOKEN"):
        return Stack(
            cfg,
            telegram_api_url=os.environ.get("VEIL_TELEGRAM_API_URL", "https://api.telegram.org"),
            public_url=os.environ.get("VEIL_PUBLIC_URL"),
            trace_dir=traces,
        )
    return Stack(cfg, trace_dir=traces)


def _post(url: str, body: dict[str, object]) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def _demo_chats(stack: Stack, bot_id: int) -> None:
    """The demo channel and admin group in the emulator."""
    for chat_id, kind, title in (
        (DEMO_CHANNEL, "channel", "Demo University Confessions"),
        (DEMO_ADMIN_CHAT, "supergroup", "Demo University Admins"),
    ):
        _post(
            f"{stack.emulator_url}/control/chats",
            {
                "bot_id": bot_id,
                "chat_id": chat_id,
                "type": kind,
                "title": title,
                "admins": [DEMO_ADMIN],
                "members": [DEMO_ADMIN],
                "bot_is_admin": True,
            },
        )


def up() -> None:
    """Bring everything up, detached; safe to run again."""
    stack = _stack()
    real = stack.telegram_api_url is not None
    if real and not (
        stack.public_url
        and os.environ.get("VEIL_CHANNEL_ID")
        and os.environ.get("VEIL_ADMIN_CHAT_ID")
    ):
        sys.exit(
            "with VEIL_BOT_TOKEN set, also set VEIL_PUBLIC_URL (HTTPS, reaching port "
            f"{stack.ports.gateway}), VEIL_CHANNEL_ID and VEIL_ADMIN_CHAT_ID"
        )
    if all(stack.running(n) for n in ("gateway", *SERVICES, *WORKERS)):
        print("Veil is already up.")
        _explain(stack)
        return
    stack.stop_processes()
    print("starting Postgres (primary + replica) and the Redis Cluster…", flush=True)
    stack.start_infra()
    print("starting the services…", flush=True)
    stack.start_services()
    if real:
        token = os.environ["VEIL_BOT_TOKEN"]
        print(
            stack.add_community(
                token,
                int(os.environ["VEIL_CHANNEL_ID"]),
                int(os.environ["VEIL_ADMIN_CHAT_ID"]),
                os.environ.get("VEIL_TITLE", ""),
            ).strip()
        )
    else:
        token = stack.secrets()["demo_bot_token"]
        _demo_chats(stack, int(token.split(":")[0]))
        print(stack.add_community(token, DEMO_CHANNEL, DEMO_ADMIN_CHAT, "Demo University").strip())
    print("starting the gateway…", flush=True)
    stack.start_gateway()
    _explain(stack)


def sandbox_url(stack: Stack, bot_id: str) -> str:
    """The sandbox page (member, admin group and channel side by side) for the demo bot.

    The demo admin (``DEMO_ADMIN``) is an admin and a member of the demo admin
    chat, so the gateway's admin check passes when the page acts as them.
    """
    return f"{stack.emulator_url}/sandbox/?bot={bot_id}"


def _explain(stack: Stack) -> None:
    print(f"\nVeil is up. Gateway {stack.gateway_url}, logs in {stack.root / 'logs'}.")
    if stack.telegram_api_url is None:
        bot_id = stack.secrets()["demo_bot_token"].split(":")[0]
        print(f"Telegram emulator at {stack.emulator_url} (demo bot id {bot_id}).")
        print(f"Try it in a browser:            {sandbox_url(stack, bot_id)}")
        print("Moderate in the Mini App:       /panel in the sandbox's admin group")
        print("Chat with the bot as a member:  make chat")
    print("Stop everything:                make down")


def down() -> None:
    """Stop every process and the infrastructure (data is kept)."""
    stack = _stack()
    stack.stop_processes()
    lifecycle.stop(stack.infra_config)
    print("Veil is down.")


def status() -> None:
    """Print what runs."""
    stack = _stack()
    for name in ("emulator", *SERVICES, *WORKERS, "gateway"):
        print(f"{name:12} {'up' if stack.running(name) else 'down'}")
    for name, ok in lifecycle.status(stack.infra_config).items():
        print(f"{name:12} {'up' if ok else 'down'}")


def main() -> None:
    """CLI entry."""
    parser = argparse.ArgumentParser(prog="python -m tools.devstack")
    parser.add_argument("command", choices=("up", "down", "status", "bot-id"))
    args = parser.parse_args()
    if args.command == "bot-id":
        print(_stack().secrets()["demo_bot_token"].split(":")[0])
        return
    {"up": up, "down": down, "status": status}[args.command]()


if __name__ == "__main__":
    main()
