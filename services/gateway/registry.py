"""The communities this gateway serves, each with its Bot and webhook secret."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.enums import ParseMode
from aiogram.utils.token import TokenValidationError

from veil.core.hashing import keyed_token
from veil.v1 import confessions_pb2, confessions_pb2_grpc

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CommunityEntry:
    """One served community."""

    id: int
    bot: Bot
    secret_token: str
    title: str
    bot_username: str
    channel_chat_id: int
    admin_chat_id: int


@dataclass(frozen=True)
class Refreshed:
    """A community new to this gateway, or changed since it was last seen."""

    entry: CommunityEntry
    previous: CommunityEntry | None

    @property
    def new_bot(self) -> bool:
        """New, or served by another bot now: its webhook must be set."""
        return self.previous is None or self.previous.bot.token != self.entry.bot.token

    @property
    def new_admin_chat(self) -> bool:
        """New bot or another admin chat: its command menus must be set."""
        return (
            self.new_bot
            or self.previous is None
            or self.previous.admin_chat_id != self.entry.admin_chat_id
        )


def webhook_secret(key: bytes, community_id: int, bot_id: int) -> str:
    """The per-community ``secret_token`` (43 chars of A-Za-z0-9_-)."""
    return keyed_token(key, "webhook", community_id, bot_id, length=32)


class CommunityRegistry:
    """Holds one :class:`CommunityEntry` per community; refreshes from the service.

    A miss (an update for a community added after the last refresh) triggers a
    refresh at most every ``min_refresh_seconds``, so a flood of requests to an
    unknown path cannot turn into a flood of gRPC calls.
    """

    def __init__(
        self,
        communities: confessions_pb2_grpc.CommunitiesServiceStub,
        session: AiohttpSession,
        secret_key: bytes,
        *,
        min_refresh_seconds: float = 2.0,
    ) -> None:
        self._communities = communities
        self._session = session
        self._secret_key = secret_key
        self._entries: dict[int, CommunityEntry] = {}
        self._malformed: set[tuple[int, str]] = set()
        # Changes not yet taken by the refresher, whichever refresh saw them.
        self._pending: list[Refreshed] = []
        self._lock = asyncio.Lock()
        self._last_refresh = 0.0
        self._min_refresh = min_refresh_seconds

    def get(self, community_id: int) -> CommunityEntry | None:
        """The community, if known (no I/O)."""
        return self._entries.get(community_id)

    async def lookup(self, community_id: int) -> CommunityEntry | None:
        """The community, refreshing once from the service on a miss."""
        entry = self._entries.get(community_id)
        if entry is None and time.monotonic() - self._last_refresh >= self._min_refresh:
            await self.refresh()
            entry = self._entries.get(community_id)
        return entry

    def entries(self) -> list[CommunityEntry]:
        """Every known community."""
        return list(self._entries.values())

    def take_changes(self) -> list[Refreshed]:
        """The communities new or changed since the last call, from every refresh.

        A refresh triggered by an update (``lookup``) records its changes here
        too, so the refresher still sets their webhooks and menus.
        """
        changes, self._pending = self._pending, []
        return changes

    async def refresh(self) -> list[Refreshed]:
        """Reload communities; returns the ones that are new or changed."""
        async with self._lock:
            self._last_refresh = time.monotonic()
            response = await self._communities.ListCommunities(
                confessions_pb2.ListCommunitiesRequest(include_secrets=True)
            )
            changed: list[Refreshed] = []
            for community in response.communities:
                current = self._entries.get(community.id)
                same_bot = current is not None and current.bot.token == community.bot_token
                if (
                    current is not None
                    and same_bot
                    and (current.title, current.bot_username)
                    == (community.title, community.bot_username)
                    and (current.channel_chat_id, current.admin_chat_id)
                    == (community.channel_chat_id, community.admin_chat_id)
                ):
                    continue
                bot = current.bot if current is not None and same_bot else self._bot(community)
                if bot is None:
                    continue
                entry = CommunityEntry(
                    id=community.id,
                    bot=bot,
                    secret_token=webhook_secret(self._secret_key, community.id, community.bot_id),
                    title=community.title,
                    bot_username=community.bot_username,
                    channel_chat_id=community.channel_chat_id,
                    admin_chat_id=community.admin_chat_id,
                )
                self._entries[community.id] = entry
                changed.append(Refreshed(entry, current))
            self._pending.extend(changed)
            return changed

    def _bot(self, community: confessions_pb2.Community) -> Bot | None:
        """A Bot for the community's token; None (said once per token) when malformed."""
        try:
            return Bot(
                community.bot_token,
                session=self._session,
                default=DefaultBotProperties(parse_mode=ParseMode.HTML),
            )
        except TokenValidationError:
            # One bad row must not keep every other community unserved;
            # said once per token, not on every refresh.
            if (community.id, community.bot_token) not in self._malformed:
                self._malformed.add((community.id, community.bot_token))
                log.error(
                    "community has a malformed bot token; not served",
                    extra={"community": community.id},
                )
            return None
