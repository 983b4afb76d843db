"""The ``veil`` console script: operator commands.

    veil community add --token … --channel … --admin-chat … [--title …] [--username …]
    veil community list
    veil migrate {confessions,social,notifier}

Settings come from ``VEIL_*`` variables like the services': the confessions
service address, the Bot API URL, and for ``migrate`` the schema's primary DSN.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from veil.core import migrations
from veil.core.grpc_client import create_channel, service_name
from veil.v1 import confessions_pb2, confessions_pb2_grpc

SERVICES = ("confessions", "social", "notifier")


class CliSettings(BaseSettings):
    """What the operator commands need to reach."""

    model_config = SettingsConfigDict(env_prefix="VEIL_", extra="ignore")

    confessions_addr: str = "127.0.0.1:50051"
    telegram_api_url: str = "https://api.telegram.org"
    db_primary_dsn: SecretStr | None = Field(default=None)


async def _bot_username(token: str, api_url: str) -> str:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url))
    try:
        me = await Bot(token, session=session).get_me()
    finally:
        await session.close()
    if not me.username:
        raise SystemExit("the bot has no username; set one with @BotFather")
    return me.username


async def _community_add(args: argparse.Namespace, settings: CliSettings) -> None:
    username = args.username or await _bot_username(args.token, settings.telegram_api_url)
    channel = create_channel(
        settings.confessions_addr, [service_name(confessions_pb2.DESCRIPTOR, "ConfessionsService")]
    )
    async with channel:
        community = await confessions_pb2_grpc.ConfessionsServiceStub(channel).UpsertCommunity(
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
    channel = create_channel(
        settings.confessions_addr, [service_name(confessions_pb2.DESCRIPTOR, "ConfessionsService")]
    )
    async with channel:
        response = await confessions_pb2_grpc.ConfessionsServiceStub(channel).ListCommunities(
            confessions_pb2.ListCommunitiesRequest()
        )
    for c in response.communities:
        print(
            f"{c.id}\t@{c.bot_username}\t{c.title}\tchannel={c.channel_chat_id}"
            f"\tadmins={c.admin_chat_id}"
        )


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
    migrate = commands.add_parser("migrate", help="apply a service's schema migrations")
    migrate.add_argument("service", choices=SERVICES)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``veil`` console script."""
    args = _parser().parse_args(argv)
    settings = CliSettings()
    if args.command == "migrate":
        if settings.db_primary_dsn is None:
            sys.exit("VEIL_DB_PRIMARY_DSN is not set")
        migrations.upgrade(args.service, settings.db_primary_dsn.get_secret_value())
        print(f"{args.service}: migrated to head")
    elif args.action == "add":
        asyncio.run(_community_add(args, settings))
    else:
        asyncio.run(_community_list(settings))


if __name__ == "__main__":
    main()
