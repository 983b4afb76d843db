"""The ``veil`` console script: operator commands.

    veil community add --token … --channel … --admin-chat … [--title …] [--username …]
    veil community list
    veil migrate {confessions,social,notifier}
    veil keys new
    veil keys rotate {confessions,notifier}
    veil notifier stats
    veil notifier limits --community N [--per-second X] [--per-chat-per-second X]
                         [--per-group-per-minute X]

Settings come from ``VEIL_*`` variables like the services': the confessions
service address, the Bot API URL, and for ``migrate`` the schema's primary DSN.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import aiohttp
import grpc
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from veil.core import confessions_stubs
from veil.core.grpc_client import create_channel, service_name
from veil.v1 import confessions_pb2, notifier_pb2, notifier_pb2_grpc

SERVICES = ("confessions", "social", "notifier")


class CliSettings(BaseSettings):
    """What the operator commands need to reach."""

    model_config = SettingsConfigDict(env_prefix="VEIL_", extra="ignore")

    confessions_addr: str = "127.0.0.1:50051"
    notifier_addr: str = "127.0.0.1:50051"
    telegram_api_url: str = "https://api.telegram.org"
    db_primary_dsn: SecretStr | None = Field(default=None)


async def _bot_username(token: str, api_url: str) -> str:
    # A plain getMe: importing aiogram costs this short-lived command seconds of CPU.
    url = f"{api_url.rstrip('/')}/bot{token}/getMe"
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as http, http.post(url) as response:
        answer = await response.json(content_type=None)
    if not answer.get("ok"):
        raise SystemExit(f"getMe failed: {answer.get('description', 'no answer')}")
    username = answer["result"].get("username")
    if not username:
        raise SystemExit("the bot has no username; set one with @BotFather")
    return str(username)


async def _community_add(args: argparse.Namespace, settings: CliSettings) -> None:
    username = args.username or await _bot_username(args.token, settings.telegram_api_url)
    stubs, channel = confessions_stubs.connect(settings.confessions_addr)
    async with channel:
        community = await stubs.communities.UpsertCommunity(
            confessions_pb2.UpsertCommunityRequest(
                bot_token=args.token,
                bot_username=username,
                channel_chat_id=args.channel,
                admin_chat_id=args.admin_chat,
                title=args.title or username,
            )
        )
    # Never print the token.
    print(f"community {community.id}: @{community.bot_username} ({community.title})")


async def _community_list(settings: CliSettings) -> None:
    stubs, channel = confessions_stubs.connect(settings.confessions_addr)
    async with channel:
        response = await stubs.communities.ListCommunities(confessions_pb2.ListCommunitiesRequest())
    for c in response.communities:
        print(
            f"{c.id}\t@{c.bot_username}\t{c.title}\tchannel={c.channel_chat_id}"
            f"\tadmins={c.admin_chat_id}"
        )


def _notifier_channel(settings: CliSettings) -> grpc.aio.Channel:
    return create_channel(
        settings.notifier_addr, [service_name(notifier_pb2.DESCRIPTOR, "NotifierService")]
    )


async def _bot_names(settings: CliSettings) -> dict[int, str]:
    """Community id → "@bot" (empty when the confessions service cannot say)."""
    stubs, channel = confessions_stubs.connect(settings.confessions_addr)
    try:
        async with channel:
            response = await stubs.communities.ListCommunities(
                confessions_pb2.ListCommunitiesRequest(), timeout=5
            )
    except grpc.aio.AioRpcError:
        return {}
    return {c.id: f"@{c.bot_username}" for c in response.communities}


async def _notifier_stats(settings: CliSettings) -> None:
    async with _notifier_channel(settings) as channel:
        response = await notifier_pb2_grpc.NotifierServiceStub(channel).GetQueueStats(
            notifier_pb2.GetQueueStatsRequest()
        )
    bots = await _bot_names(settings)
    print("queue (unsent messages per bot and priority)")
    print(f"{'community':>10} {'bot':<24} {'priority':<13} {'unsent':>8} {'oldest (s)':>11}")
    for stat in response.stats:
        priority = notifier_pb2.Priority.Name(stat.priority).removeprefix("PRIORITY_").lower()
        print(
            f"{stat.community_id:>10} {bots.get(stat.community_id, ''):<24} {priority:<13} "
            f"{stat.depth:>8} {stat.oldest_age_seconds:>11.1f}"
        )
    if not response.stats:
        print("(nothing queued)")
    totals: dict[int, dict[str, int]] = {}
    for total in response.totals:
        totals.setdefault(total.community_id, {})[total.status] = total.count
    statuses = ("queued", "sending", "sent", "dead", "dropped", "collapsed")
    print()
    print("totals per status")
    print(f"{'community':>10} {'bot':<24} " + " ".join(f"{s:>9}" for s in statuses))
    for community_id, counts in sorted(totals.items()):
        print(
            f"{community_id:>10} {bots.get(community_id, ''):<24} "
            + " ".join(f"{counts.get(s, 0):>9}" for s in statuses)
        )
    print()
    print("dead letters (Telegram's answer)")
    for letter in response.dead_letters:
        latest = letter.latest.ToDatetime().strftime("%Y-%m-%d %H:%M:%S")
        print(
            f"{letter.community_id:>10} {bots.get(letter.community_id, ''):<24} "
            f"{letter.count:>6} x {letter.error_code} {letter.description}  (latest {latest} UTC)"
        )
    if not response.dead_letters:
        print("(none)")


async def _notifier_limits(args: argparse.Namespace, settings: CliSettings) -> None:
    async with _notifier_channel(settings) as channel:
        stub = notifier_pb2_grpc.NotifierServiceStub(channel)
        changes = (args.per_second, args.per_chat_per_second, args.per_group_per_minute)
        if any(value is not None for value in changes):
            current = await stub.GetCommunityLimits(
                notifier_pb2.GetCommunityLimitsRequest(community_id=args.community)
            )
            limits = await stub.SetCommunityLimits(
                notifier_pb2.CommunityLimits(
                    community_id=args.community,
                    per_second=_pick(args.per_second, current.per_second),
                    per_private_chat_per_second=_pick(
                        args.per_chat_per_second, current.per_private_chat_per_second
                    ),
                    per_group_per_minute=_pick(
                        args.per_group_per_minute, current.per_group_per_minute
                    ),
                )
            )
        else:
            limits = await stub.GetCommunityLimits(
                notifier_pb2.GetCommunityLimitsRequest(community_id=args.community)
            )
    print(
        f"community {limits.community_id}: {limits.per_second:g}/s per bot, "
        f"{limits.per_private_chat_per_second:g}/s per private chat, "
        f"{limits.per_group_per_minute:g}/min per group or channel"
    )


def _keys(args: argparse.Namespace, settings: CliSettings) -> None:
    from veil.core import sealing  # cryptography only where it is needed

    if args.action == "new":
        print(f"k{int(time.time())}:{sealing.new_master_key()}")
        return
    if settings.db_primary_dsn is None:
        sys.exit("VEIL_DB_PRIMARY_DSN is not set")
    from services import key_rotation

    try:
        keys = sealing.SealingSettings().keyring()
        count = key_rotation.run(settings.db_primary_dsn.get_secret_value(), args.service, keys)
    except sealing.SealingError as error:
        sys.exit(f"refused: {error}")
    print(f"{args.service}: {count} data keys re-wrapped under {keys.current!r}")


def _pick(new: float | None, current: float) -> float:
    return current if new is None else new


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="veil", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    community = commands.add_parser("community", help="manage communities")
    community_commands = community.add_subparsers(dest="action", required=True)
    add = community_commands.add_parser("add", help="register a community bot")
    add.add_argument("--token", required=True, help="bot token from @BotFather")
    add.add_argument("--channel", required=True, type=int, help="channel chat id (-100…)")
    add.add_argument("--admin-chat", required=True, type=int, help="admin group chat id")
    add.add_argument("--title", default="", help="community name shown to members")
    add.add_argument("--username", default="", help="bot username (default: from getMe)")
    community_commands.add_parser("list", help="list communities")
    notifier = commands.add_parser("notifier", help="the delivery queue")
    notifier_commands = notifier.add_subparsers(dest="action", required=True)
    notifier_commands.add_parser("stats", help="queue depth, oldest message, totals")
    limits = notifier_commands.add_parser("limits", help="show or set a community's limits")
    limits.add_argument("--community", required=True, type=int)
    limits.add_argument("--per-second", type=float, help="messages/s per bot (Telegram: 30)")
    limits.add_argument(
        "--per-chat-per-second", type=float, help="messages/s per private chat (Telegram: 1)"
    )
    limits.add_argument(
        "--per-group-per-minute", type=float, help="messages/min per group (Telegram: 20)"
    )
    migrate = commands.add_parser("migrate", help="apply a service's schema migrations")
    migrate.add_argument("service", choices=SERVICES)
    keys = commands.add_parser("keys", help="master keys of sealed data")
    keys_commands = keys.add_subparsers(dest="action", required=True)
    keys_commands.add_parser("new", help="print a new master key (id:key) for the Secret")
    rotate = keys_commands.add_parser(
        "rotate", help="re-wrap a schema's data keys under the first VEIL_SEAL_MASTER_KEYS key"
    )
    rotate.add_argument("service", choices=("confessions", "notifier"))
    return parser


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``veil`` console script."""
    args = _parser().parse_args(argv)
    settings = CliSettings()
    if args.command == "migrate":
        if settings.db_primary_dsn is None:
            sys.exit("VEIL_DB_PRIMARY_DSN is not set")
        from veil.core import migrations  # Alembic only where it is needed

        migrations.upgrade(args.service, settings.db_primary_dsn.get_secret_value())
        print(f"{args.service}: migrated to head")
    elif args.command == "keys":
        _keys(args, settings)
    elif args.command == "notifier":
        if args.action == "stats":
            asyncio.run(_notifier_stats(settings))
        else:
            asyncio.run(_notifier_limits(args, settings))
    elif args.action == "add":
        asyncio.run(_community_add(args, settings))
    else:
        asyncio.run(_community_list(settings))


if __name__ == "__main__":
    main()
