"""What protects a community across a member's erasure: bans, and their retention.

A ban is one row per ban, attached to a *protected subject*: the keyed token of
(community, Telegram user) from :func:`veil.core.hashing.subject_token`, which
holds nothing else. ``/deleteme`` deletes the member, not their bans, so a member
who joins again after erasing themselves is still banned. Bans are listed and
lifted one by one (by id, or by the label they were made with), never per
member: no admin command answers differently depending on who is behind a
label.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, delete, func, or_, select, tuple_, update

from services.confessions.models import bans, member_events, members
from services.confessions.rows import BanRow
from services.confessions.sealed import MemberSeal
from veil.core.db import Database

# (community id, Telegram user id) → the subject token.
SubjectOf = Callable[[int, int], str]

_COLUMNS = (
    bans.c.id,
    bans.c.label,
    bans.c.reason,
    bans.c.until,
    bans.c.created_at,
    bans.c.shadow,
)
_BATCH = 1000
_MAX_BATCHES = 20


def _in_force() -> Any:
    """A ban counts until its end (none: permanent)."""
    return or_(bans.c.until.is_(None), bans.c.until > func.now())


def _row(row: RowMapping) -> BanRow:
    return BanRow(**{name: row[name] for name in BanRow.__dataclass_fields__})


def _same_label(label: str) -> Any:
    return func.lower(bans.c.label) == label.strip().lower()


class ProtectionRepository:
    """Bans by subject, and the pruning of what the confessions schema grows."""

    def __init__(self, db: Database, subject_of: SubjectOf, seal: MemberSeal) -> None:
        self._db = db
        self._subject_of = subject_of
        # A member's Telegram id is only kept sealed: opened here to compute
        # their subject (a private chat's id is the user's id).
        self._seal = seal

    async def ban(
        self,
        community_id: int,
        member_id: int,
        *,
        until: datetime | None,
        reason: str,
        label: str,
        shadow: bool = False,
        before_change: Callable[[int], Awaitable[None]] | None = None,
    ) -> tuple[BanRow, int]:
        """Ban a member's subject: (the ban, the member's Telegram id, to tell them).

        ``before_change`` is given the Telegram id in the transaction, before
        the ban is written (a failure there rolls it back).

        Each label is its own ban: banning one member as "confession #12" and
        as "Misty Heron 417" makes two. The same label again (a retried
        command, or a new duration) updates that ban and keeps its id, so its
        notice is not sent twice; an expired one is replaced by a new ban.
        """
        async with self._db.write() as conn:
            telegram_id = await self._seal.open_member(conn, community_id, member_id)
            subject = self._subject_of(community_id, telegram_id)
            if before_change is not None:
                await before_change(int(telegram_id))
            # Two identical /ban commands at once make one ban.
            await conn.execute(
                select(func.pg_advisory_xact_lock(func.hashtext(f"ban:{subject}:{label.lower()}")))
            )
            same = [
                bans.c.community_id == community_id,
                bans.c.subject == subject,
                _same_label(label),
            ]
            await conn.execute(delete(bans).where(*same, bans.c.until <= func.now()))
            values = {"until": until, "reason": reason, "shadow": shadow}
            row = (
                (
                    await conn.execute(
                        update(bans).where(*same).values(**values).returning(*_COLUMNS)
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                inserted = (
                    bans.insert()
                    .values(community_id=community_id, subject=subject, label=label, **values)
                    .returning(*_COLUMNS)
                )
                row = (await conn.execute(inserted)).mappings().one()
        return _row(row), int(telegram_id)

    async def unban(self, community_id: int, *, ban_id: int = 0, label: str = "") -> int:
        """Lift the bans in force with this id or this label; returns how many.

        Looks at bans only: whom a label or number belongs to plays no part.
        """
        if ban_id:
            which = bans.c.id == ban_id
        elif label.strip():
            which = _same_label(label)
        else:
            return 0
        statement = (
            delete(bans)
            .where(bans.c.community_id == community_id, which)
            .returning(_in_force().label("active"))
        )
        async with self._db.write() as conn:
            rows = (await conn.execute(statement)).all()
        return sum(1 for r in rows if r.active)

    async def list_bans(self, community_id: int, limit: int = 100) -> list[BanRow]:
        """Bans in force, newest first: each ban its own entry."""
        statement = (
            select(*_COLUMNS)
            .where(bans.c.community_id == community_id, _in_force())
            .order_by(bans.c.created_at.desc(), bans.c.id.desc())
            .limit(limit)
        )
        async with self._db.read_own() as conn:
            return [_row(row) for row in (await conn.execute(statement)).mappings()]

    async def adopt_legacy_bans(self) -> int:
        """Give bans made before subjects existed their subject (once, at start).

        Only the service holds the key, so a migration cannot compute them.
        """
        statement = (
            select(
                bans.c.id,
                members.c.community_id,
                members.c.lookup,
                members.c.data_key,
                members.c.chat,
            )
            .join(members, members.c.id == bans.c.member_id)
            .where(bans.c.subject.is_(None))
        )
        async with self._db.write() as conn:
            rows = (await conn.execute(statement)).all()
            for row in rows:
                await conn.execute(
                    update(bans)
                    .where(bans.c.id == row.id)
                    .values(
                        subject=self._subject_of(
                            int(row.community_id),
                            self._seal.chat_id(
                                int(row.community_id), row.lookup, row.data_key, row.chat
                            ),
                        ),
                        member_id=None,
                    )
                )
        return len(rows)

    async def prune(self, member_event_days: int) -> dict[str, int]:
        """Delete member events older than ``member_event_days`` and bans that ended.

        Member events only make a retried RecordMemberActivity count once, so
        they are worth keeping for as long as a retry can come (minutes).
        """
        old = (
            select(member_events.c.member_id, member_events.c.event_key)
            .where(
                member_events.c.created_at
                < func.now() - func.make_interval(0, 0, 0, member_event_days)
            )
            .limit(_BATCH)
        )
        events = 0
        async with self._db.write() as conn:
            for _ in range(_MAX_BATCHES):
                result = await conn.execute(
                    delete(member_events).where(
                        tuple_(member_events.c.member_id, member_events.c.event_key).in_(old)
                    )
                )
                events += int(result.rowcount or 0)
                if (result.rowcount or 0) < _BATCH:
                    break
            ended = (await conn.execute(delete(bans).where(bans.c.until <= func.now()))).rowcount
        return {"member_events": events, "bans": int(ended or 0)}
