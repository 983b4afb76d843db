"""All SQL of the confessions service. Core statements, rows out, no ORM objects."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    RowMapping,
    Text,
    and_,
    delete,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError

from services.confessions.domain import Rules
from services.confessions.models import (
    bans,
    communities,
    community_rules,
    confessions,
    member_events,
    members,
)
from services.confessions.safety_rules import SafetyRules
from veil.core.db import Database
from veil.core.errors import CommunityNotFoundError


@dataclass(frozen=True)
class CommunityRow:
    """A community as stored."""

    id: int
    bot_id: int
    bot_token: str
    bot_username: str
    channel_chat_id: int
    admin_chat_id: int
    title: str
    created_at: datetime


@dataclass(frozen=True)
class ConfessionRow:
    """A confession as its author may see it (no member identity)."""

    id: int
    number: int
    community_id: int
    text: str
    status: str
    created_at: datetime
    media_kind: str | None = None
    file_id: str | None = None

    @classmethod
    def of(cls, row: Any, prefix: str = "") -> ConfessionRow:
        """The confession in a result row (its columns named ``prefix`` + field)."""
        return cls(**{name: row[prefix + name] for name in cls.__dataclass_fields__})

    @property
    def media(self) -> tuple[str, str] | None:
        """(kind, file_id) of a media confession."""
        if self.media_kind is None or self.file_id is None:
            return None
        return self.media_kind, self.file_id


@dataclass(frozen=True)
class BanRow:
    """A ban in force (one of possibly several of one subject)."""

    id: int
    label: str
    reason: str
    until: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class Decision:
    """The outcome of a moderation attempt: who decided what, and whom to tell."""

    won: bool
    confession: ConfessionRow
    moderator: str
    # approve, reject or ban ("" while pending).
    decision: str
    reason: str
    member_id: int
    author_telegram_id: int
    # With a publishing interval: the moment the channel post may leave.
    publish_at: datetime | None = None


@dataclass(frozen=True)
class Submission:
    """A stored confession with the author's history for the admins' card."""

    confession: ConfessionRow
    created: bool
    approved: int
    rejected: int
    flagged_word: str | None
    # What the doxxing guard found and left in (rule flag), e.g. "a phone number".
    pii_found: str | None = None


@dataclass(frozen=True)
class MemberRow:
    """A member as RegisterMember sees it (for the gateway; no Telegram id)."""

    id: int
    created: bool
    notifications_enabled: bool
    unreachable: bool
    # The member's ban in force, if any.
    ban: BanRow | None = None
    # A report's weight reads these (issue 16).
    joined_at: datetime | None = None
    confessions_approved: int = 0


@dataclass(frozen=True)
class Recipient:
    """Where a notice to a member goes, and whether it may."""

    telegram_user_id: int
    notifications_enabled: bool
    unreachable: bool


@dataclass(frozen=True)
class ProfileRow:
    """A member's own counters."""

    confessions_sent: int
    confessions_approved: int
    comments_written: int
    reactions_received: int
    notifications_enabled: bool
    created_at: datetime


@dataclass(frozen=True)
class ErasedPost:
    """A published confession whose channel post the erasure must change."""

    confession_id: int
    number: int
    channel_message_id: int
    # A photo, voice note or video post cannot become "[deleted]" text.
    has_media: bool = False


@dataclass(frozen=True)
class ErasedCard:
    """A confession whose card in the admin chat the erasure withdraws."""

    confession_id: int
    number: int
    has_media: bool = False


@dataclass(frozen=True)
class Erasure:
    """What erasing one member touches, known before it is committed."""

    member_id: int
    channel_chat_id: int
    # 'replace' (edit the post to "[deleted]") or 'delete'.
    erased_posts: str
    posts: list[ErasedPost]
    admin_chat_id: int = 0
    cards: list[ErasedCard] = field(default_factory=list)


ERASED_TEXT = "[deleted]"

_COMMUNITY_COLUMNS = (
    communities.c.id,
    communities.c.bot_id,
    communities.c.bot_token,
    communities.c.bot_username,
    communities.c.channel_chat_id,
    communities.c.admin_chat_id,
    communities.c.title,
    communities.c.created_at,
)
_CONFESSION_COLUMNS = (
    confessions.c.id,
    confessions.c.number,
    confessions.c.community_id,
    confessions.c.text,
    confessions.c.status,
    confessions.c.created_at,
    confessions.c.media_kind,
    confessions.c.file_id,
)
_BAN_COLUMNS = (
    bans.c.id,
    bans.c.label,
    bans.c.reason,
    bans.c.until,
    bans.c.created_at,
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


def _community(row: RowMapping) -> CommunityRow:
    return CommunityRow(**row)


def _ban(row: RowMapping) -> BanRow:
    return BanRow(**{name: row[name] for name in BanRow.__dataclass_fields__})


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


def _author_chat() -> Any:
    """The author's Telegram id (where their notices go), correlated to the confession."""
    return (
        select(members.c.telegram_user_id)
        .where(members.c.id == confessions.c.member_id)
        .scalar_subquery()
    )


def _in_force() -> Any:
    """A ban counts until its end (none: permanent)."""
    return or_(bans.c.until.is_(None), bans.c.until > func.now())


class ConfessionsRepository:
    """Reads and writes of the ``confessions`` schema."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def db(self) -> Database:
        """The engines, for the hot-path statements kept in their own modules
        (submission.py, decision.py)."""
        return self._db

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
            "bot_token": bot_token,
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
            return _community((await conn.execute(statement)).mappings().one())

    async def get_community(self, community_id: int) -> CommunityRow:
        """One community, from the primary (a community added a moment ago is served)."""
        statement = select(*_COMMUNITY_COLUMNS).where(communities.c.id == community_id)
        async with self._db.read_own() as conn:
            row = (await conn.execute(statement)).mappings().one_or_none()
        if row is None:
            raise CommunityNotFoundError(community_id)
        return _community(row)

    async def list_communities(self) -> list[CommunityRow]:
        """Every community, oldest first. Read from the primary: the set is tiny
        and a gateway must see a community as soon as it was added."""
        statement = select(*_COMMUNITY_COLUMNS).order_by(communities.c.id)
        async with self._db.read_own() as conn:
            return [_community(row) for row in (await conn.execute(statement)).mappings()]

    async def register_member(
        self, community_id: int, telegram_user_id: int, subject: str
    ) -> MemberRow:
        """Find or create the member, with their settings, reachability and ban in force.

        The ban is looked up by ``subject`` (the keyed token of community and
        Telegram user), so a ban outlives the member's erasure; of several bans
        in force the longest counts.
        """
        upsert = (
            insert(members)
            .values(community_id=community_id, telegram_user_id=telegram_user_id)
            .on_conflict_do_update(
                constraint="members_community_user_key",
                set_={"telegram_user_id": telegram_user_id},
            )
            # xmax is 0 only on a freshly inserted tuple: tells insert from update
            # in the same round trip.
            .returning(
                members.c.id,
                (literal_column("xmax") == 0).label("created"),
                members.c.notifications_enabled,
                members.c.unreachable_since.is_not(None).label("unreachable"),
            )
            .cte("m")
        )
        strongest = (
            select(*_BAN_COLUMNS)
            .where(bans.c.community_id == community_id, bans.c.subject == subject, _in_force())
            .order_by(bans.c.until.desc().nulls_first())
            .limit(1)
            .subquery("ban")
        )
        # One round trip: the upsert and the subject's ban in force.
        statement = select(
            upsert.c.id,
            upsert.c.created,
            upsert.c.notifications_enabled,
            upsert.c.unreachable,
            strongest.c.id.label("ban_id"),
            *[strongest.c[name] for name in ("label", "reason", "until", "created_at")],
        ).select_from(upsert.outerjoin(strongest, true()))
        try:
            async with self._db.write_one() as conn:
                row = (await conn.execute(statement)).mappings().one()
        except IntegrityError as error:
            # The only constraint an upsert can break here is the community FK.
            raise CommunityNotFoundError(community_id) from error
        ban = None
        if row["ban_id"] is not None:
            ban = _ban({**row, "id": row["ban_id"]})  # type: ignore[arg-type]
        return MemberRow(
            id=int(row["id"]),
            created=bool(row["created"]),
            notifications_enabled=bool(row["notifications_enabled"]),
            unreachable=bool(row["unreachable"]),
            ban=ban,
        )

    async def mark_reachable(self, member_id: int) -> None:
        """The member wrote to the bot again: notices reach them again."""
        async with self._db.write() as conn:
            await conn.execute(
                update(members).where(members.c.id == member_id).values(unreachable_since=None)
            )

    async def mark_unreachable(self, community_id: int, telegram_user_id: int) -> bool:
        """The member's chat answered 403; returns whether such a member exists."""
        statement = (
            update(members)
            .where(members.c.community_id == community_id)
            .where(members.c.telegram_user_id == telegram_user_id)
            .values(unreachable_since=func.coalesce(members.c.unreachable_since, func.now()))
            .returning(members.c.id)
        )
        # One statement commits by itself: no BEGIN/COMMIT round trips.
        async with self._db.write_one() as conn:
            return (await conn.execute(statement)).first() is not None

    async def set_notifications(
        self, community_id: int, telegram_user_id: int, enabled: bool
    ) -> bool:
        """Turn the member's optional notices on or off; returns the stored value."""
        statement = (
            insert(members)
            .values(
                community_id=community_id,
                telegram_user_id=telegram_user_id,
                notifications_enabled=enabled,
            )
            .on_conflict_do_update(
                constraint="members_community_user_key", set_={"notifications_enabled": enabled}
            )
            .returning(members.c.notifications_enabled)
        )
        try:
            async with self._db.write() as conn:
                return bool((await conn.execute(statement)).scalar_one())
        except IntegrityError as error:
            raise CommunityNotFoundError(community_id) from error

    async def recipients(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], Recipient]:
        """Delivery details of members by (community id, member id), in one statement.

        Read on the primary: a member who just turned notifications off must not
        get the next one because the replica had not replayed it yet.
        """
        if not keys:
            return {}
        statement = select(
            members.c.community_id,
            members.c.id,
            members.c.telegram_user_id,
            members.c.notifications_enabled,
            members.c.unreachable_since.is_not(None).label("unreachable"),
        ).where(tuple_(members.c.community_id, members.c.id).in_(list(set(keys))))
        async with self._db.read_own() as conn:
            rows = (await conn.execute(statement)).all()
        return {
            (int(r.community_id), int(r.id)): Recipient(
                telegram_user_id=int(r.telegram_user_id),
                notifications_enabled=bool(r.notifications_enabled),
                unreachable=bool(r.unreachable),
            )
            for r in rows
        }

    async def record_activity(
        self,
        community_id: int,
        member_id: int,
        *,
        comments_written: int,
        reactions_received: int,
        event_key: str,
    ) -> bool:
        """Add to a member's counters once per event; returns whether it counted.

        One statement: the event row is claimed in a CTE and the counters move
        only when the claim inserted it, so a retried call changes nothing.
        """
        digest = hashlib.sha256(event_key.encode()).hexdigest()[:32]
        member = select(members.c.id).where(
            members.c.community_id == community_id, members.c.id == member_id
        )
        claimed = (
            insert(member_events)
            .from_select(["member_id", "event_key"], member.add_columns(literal(digest, Text)))
            .on_conflict_do_nothing()
            .returning(member_events.c.member_id)
            .cte("claimed")
        )
        statement = (
            update(members)
            .where(members.c.id.in_(select(claimed.c.member_id)))
            .values(
                comments_written=func.greatest(members.c.comments_written + comments_written, 0),
                reactions_received=func.greatest(
                    members.c.reactions_received + reactions_received, 0
                ),
            )
            .returning(members.c.id)
        )
        # One statement commits by itself: no BEGIN/COMMIT round trips.
        async with self._db.write_one() as conn:
            return (await conn.execute(statement)).first() is not None

    async def profile(self, community_id: int, telegram_user_id: int) -> ProfileRow | None:
        """The member's counters: one statement on the primary (their own, fresh)."""
        statement = select(
            members.c.confessions_sent,
            members.c.confessions_approved,
            members.c.comments_written,
            members.c.reactions_received,
            members.c.notifications_enabled,
            members.c.created_at,
        ).where(
            members.c.community_id == community_id, members.c.telegram_user_id == telegram_user_id
        )
        async with self._db.read_own() as conn:
            row = (await conn.execute(statement)).mappings().one_or_none()
        return ProfileRow(**row) if row is not None else None

    async def erase_member(
        self,
        community_id: int,
        telegram_user_id: int,
        subject: str,
        before_commit: Callable[[Erasure], Awaitable[None]],
    ) -> tuple[Erasure, int] | None:
        """Erase the member: their row goes, their confessions lose text and author.

        What protects the community stays, under ``subject`` alone: their bans
        (a ban made before bans had subjects gets it here).

        ``before_commit`` runs inside the transaction, with the member and their
        published confessions locked: it queues the channel edits, so that they
        are queued exactly when the erasure commits (a failure rolls both back
        and the retry finds everything as it was). Returns what was erased and
        the number of confessions, or None when there is no such member (erased
        already).
        """
        async with self._db.write() as conn:
            member_id = (
                await conn.execute(
                    select(members.c.id)
                    .where(members.c.community_id == community_id)
                    .where(members.c.telegram_user_id == telegram_user_id)
                    .with_for_update()
                )
            ).scalar_one_or_none()
            if member_id is None:
                return None
            community = (
                await conn.execute(
                    select(
                        communities.c.channel_chat_id,
                        communities.c.admin_chat_id,
                        communities.c.erased_posts,
                    ).where(communities.c.id == community_id)
                )
            ).one()
            posts = (
                await conn.execute(
                    select(
                        confessions.c.id,
                        confessions.c.number,
                        confessions.c.channel_message_id,
                        confessions.c.media_kind,
                    )
                    .where(confessions.c.member_id == member_id)
                    .where(confessions.c.status == "published")
                    .where(confessions.c.channel_message_id.is_not(None))
                    .order_by(confessions.c.id)
                    .with_for_update()
                )
            ).all()
            # Every confession of theirs had a card in the admin chat: it is withdrawn.
            cards = (
                await conn.execute(
                    select(confessions.c.id, confessions.c.number, confessions.c.media_kind)
                    .where(confessions.c.member_id == member_id)
                    .where(confessions.c.status != "deleted")
                    .order_by(confessions.c.id)
                )
            ).all()
            erasure = Erasure(
                member_id=int(member_id),
                channel_chat_id=int(community.channel_chat_id),
                admin_chat_id=int(community.admin_chat_id),
                cards=[
                    ErasedCard(int(c.id), int(c.number), has_media=c.media_kind is not None)
                    for c in cards
                ],
                erased_posts=str(community.erased_posts),
                posts=[
                    ErasedPost(
                        int(p.id),
                        int(p.number),
                        int(p.channel_message_id),
                        has_media=p.media_kind is not None,
                    )
                    for p in posts
                ],
            )
            await before_commit(erasure)
            erased = (
                await conn.execute(
                    update(confessions)
                    .where(confessions.c.member_id == member_id)
                    .values(
                        text=ERASED_TEXT,
                        status="deleted",
                        member_id=None,
                        media_kind=None,
                        file_id=None,
                        flagged_word=None,
                        reject_reason=None,
                        updated_at=func.now(),
                    )
                    .returning(confessions.c.id)
                )
            ).all()
            # Bans stay, under the subject alone (bans made before subjects get it now).
            await conn.execute(
                update(bans)
                .where(bans.c.member_id == member_id)
                .values(subject=subject, member_id=None)
            )
            # member_events go with the row (ON DELETE CASCADE).
            await conn.execute(delete(members).where(members.c.id == member_id))
            return erasure, len(erased)

    async def list_member_confessions(
        self, community_id: int, telegram_user_id: int, limit: int, offset: int
    ) -> tuple[list[ConfessionRow], int]:
        """A page of the member's confessions, newest first, and their total.

        One statement: the member lookup is a join and the total a window count.
        Read on the primary, because the member has usually just submitted one.
        """
        statement = (
            select(*_CONFESSION_COLUMNS, func.count().over().label("total"))
            .join(members, members.c.id == confessions.c.member_id)
            .where(members.c.community_id == community_id)
            .where(members.c.telegram_user_id == telegram_user_id)
            .where(confessions.c.status != "deleted")
            .order_by(confessions.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
        async with self._db.read_own() as conn:
            rows = (await conn.execute(statement)).mappings().all()
        total = int(rows[0]["total"]) if rows else 0
        return [ConfessionRow.of(row) for row in rows], total

    async def get_confession(
        self, community_id: int, number: int, confession_id: int = 0
    ) -> tuple[ConfessionRow, int, int] | None:
        """A confession by its public number (or internal id): (row, author's member id,
        channel message id)."""
        which = (
            confessions.c.id == confession_id if confession_id else confessions.c.number == number
        )
        statement = select(
            *_CONFESSION_COLUMNS, confessions.c.member_id, confessions.c.channel_message_id
        ).where(confessions.c.community_id == community_id, which)
        async with self._db.read() as conn:
            row = (await conn.execute(statement)).mappings().one_or_none()
        if row is None:
            # Not on the replica may mean not there yet (an admin's "/ban #N"
            # right after the card arrived): only the primary can say "none".
            async with self._db.read_own() as conn:
                row = (await conn.execute(statement)).mappings().one_or_none()
        if row is None:
            return None
        return (
            ConfessionRow.of(row),
            int(row["member_id"] or 0),
            int(row["channel_message_id"] or 0),
        )

    async def record_publication(
        self, community_id: int, confession_id: int, channel_message_id: int
    ) -> tuple[ConfessionRow, int] | None:
        """Approved → published with the post's id; (row, author's Telegram id) once published.

        A repeated report of the same post finds it published and answers the
        same, so the author's notice (idempotent in the notifier) is queued again
        harmlessly. None when the confession is not approved or published.
        """
        author = _author_chat()
        statement = (
            update(confessions)
            .where(
                confessions.c.id == confession_id,
                confessions.c.community_id == community_id,
                or_(
                    confessions.c.status == "approved",
                    and_(
                        confessions.c.status == "published",
                        confessions.c.channel_message_id == channel_message_id,
                    ),
                ),
            )
            .values(
                status="published", channel_message_id=channel_message_id, updated_at=func.now()
            )
            .returning(*_CONFESSION_COLUMNS, author.label("author"))
        )
        async with self._db.write_one() as conn:
            row = (await conn.execute(statement)).mappings().one_or_none()
        if row is None:
            return None
        return ConfessionRow.of(row), int(row["author"] or 0)

    async def is_deleted(self, community_id: int, confession_id: int) -> bool:
        """True when the confession was withdrawn or erased (read on the primary)."""
        statement = select(confessions.c.status).where(
            confessions.c.id == confession_id, confessions.c.community_id == community_id
        )
        async with self._db.read_own() as conn:
            return (await conn.execute(statement)).scalar_one_or_none() == "deleted"

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
