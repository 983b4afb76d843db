"""SQL of CommunitiesService: communities and their rules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from services.confessions.domain import Rules
from services.confessions.models import communities, community_rules
from services.confessions.rows import CommunityRow
from services.confessions.safety_rules import SafetyRules
from services.confessions.sealed import MemberSeal
from veil.core.db import Database
from veil.core.errors import CommunityNotFoundError

_COMMUNITY_COLUMNS = (
    communities.c.id,
    communities.c.bot_id,
    communities.c.sealed_token,
    communities.c.bot_username,
    communities.c.channel_chat_id,
    communities.c.admin_chat_id,
    communities.c.title,
    communities.c.created_at,
)
_RULE_COLUMNS = (
    community_rules.c.cooldown_seconds,
    community_rules.c.daily_cap,
    community_rules.c.max_length,
    community_rules.c.filter_words,
    community_rules.c.filter_action,
    community_rules.c.reject_reasons,
    community_rules.c.publish_interval_minutes,
    community_rules.c.pii_action,
    community_rules.c.filter_comments,
    community_rules.c.report_threshold,
    community_rules.c.link_previews,
)


def _community(row: RowMapping, seal: MemberSeal) -> CommunityRow:
    values = {k: v for k, v in row.items() if k != "sealed_token"}
    return CommunityRow(**values, bot_token=seal.open_token(row["bot_id"], row["sealed_token"]))


def _rules(row: RowMapping | None) -> Rules:
    if row is None:
        return Rules()
    defaults = Rules()
    return Rules(
        cooldown_seconds=row["cooldown_seconds"],
        daily_cap=row["daily_cap"],
        max_length=row["max_length"],
        filter_words=tuple(row["filter_words"] or ()),
        filter_action=row["filter_action"],
        reject_reasons=tuple(row["reject_reasons"])
        if row["reject_reasons"] is not None
        else defaults.reject_reasons,
        publish_interval_minutes=row["publish_interval_minutes"],
        safety=SafetyRules.of(row),
    )


class CommunitiesRepository:
    """Reads and writes of ``communities`` and ``community_rules``."""

    def __init__(self, db: Database, seal: MemberSeal) -> None:
        self._db = db
        self.seal = seal

    async def upsert_community(
        self,
        *,
        bot_id: int,
        bot_token: str,
        bot_username: str,
        channel_chat_id: int,
        admin_chat_id: int,
        title: str,
    ) -> CommunityRow:
        """Insert the community, or update the one with the same bot."""
        values = {
            "sealed_token": self.seal.seal_token(bot_id, bot_token),
            "bot_username": bot_username,
            "channel_chat_id": channel_chat_id,
            "admin_chat_id": admin_chat_id,
            "title": title,
        }
        statement = (
            insert(communities)
            .values(bot_id=bot_id, **values)
            .on_conflict_do_update(index_elements=[communities.c.bot_id], set_=values)
            .returning(*_COMMUNITY_COLUMNS)
        )
        async with self._db.write() as conn:
            return _community((await conn.execute(statement)).mappings().one(), self.seal)

    async def get_community(self, community_id: int) -> CommunityRow:
        """One community, from the primary (a community added a moment ago is served)."""
        statement = select(*_COMMUNITY_COLUMNS).where(communities.c.id == community_id)
        async with self._db.read_own() as conn:
            row = (await conn.execute(statement)).mappings().one_or_none()
        if row is None:
            raise CommunityNotFoundError(community_id)
        return _community(row, self.seal)

    async def bot_id(self, community_id: int) -> int:
        """The community's bot id (fixed for a community's life: rows are keyed by it)."""
        statement = select(communities.c.bot_id).where(communities.c.id == community_id)
        async with self._db.read_own() as conn:
            bot_id = (await conn.execute(statement)).scalar_one_or_none()
        if bot_id is None:
            raise CommunityNotFoundError(community_id)
        return int(bot_id)

    async def list_communities(self) -> list[CommunityRow]:
        """Every community, oldest first. Read from the primary: the set is tiny
        and a gateway must see a community as soon as it was added."""
        statement = select(*_COMMUNITY_COLUMNS).order_by(communities.c.id)
        async with self._db.read_own() as conn:
            return [
                _community(row, self.seal) for row in (await conn.execute(statement)).mappings()
            ]

    async def rules(self, community_id: int) -> Rules:
        """The community's rules (defaults without a row). From the primary: an admin
        who has just changed one sees it at once."""
        statement = select(*_RULE_COLUMNS).where(community_rules.c.community_id == community_id)
        async with self._db.read_own() as conn:
            return _rules((await conn.execute(statement)).mappings().one_or_none())

    async def set_rules(self, community_id: int, changes: dict[str, Any]) -> Rules:
        """Store changed rules (creating the community's row); returns all of them."""
        statement = (
            insert(community_rules)
            .values(community_id=community_id, **changes)
            .on_conflict_do_update(index_elements=[community_rules.c.community_id], set_=changes)
            .returning(*_RULE_COLUMNS)
        )
        try:
            async with self._db.write() as conn:
                return _rules((await conn.execute(statement)).mappings().one())
        except IntegrityError as error:
            raise CommunityNotFoundError(community_id) from error
