"""Warns and the community's warn rules: the SQL (WarnMember, ListWarns, …).

A warn is one row per warn under the member's protected subject, like a ban
(services/confessions/protection.py): it outlives /deleteme, and it is listed
and removed one by one, never per member. A warn counts until ``expires_at``
(its creation plus the community's ``warn_expiry``); the ``warn_limit``-th warn
in force is answered with a ban of ``warn_ban`` (the caller bans).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, delete, func, select
from sqlalchemy.dialects.postgresql import insert

from services.confessions.models import safety_rules, warns
from services.confessions.protection import SubjectOf
from services.confessions.sealed import MemberSeal
from veil.core.db import Database
from veil.core.durations import format_duration, parse_duration
from veil.core.errors import InvalidInputError

DEFAULT_EXPIRY_SECONDS = 30 * 86400
DEFAULT_LIMIT = 3
DEFAULT_BAN_SECONDS = 7 * 86400
MAX_LIMIT = 20
RULE_NAMES = ("warn_expiry", "warn_limit", "warn_ban")

_COLUMNS = (warns.c.id, warns.c.label, warns.c.reason, warns.c.created_at, warns.c.expires_at)


@dataclass(frozen=True)
class SafetyRulesRow:
    """A community's warn rules (the defaults where none were set)."""

    warn_expiry_seconds: int = DEFAULT_EXPIRY_SECONDS
    warn_limit: int = DEFAULT_LIMIT
    warn_ban_seconds: int = DEFAULT_BAN_SECONDS


@dataclass(frozen=True)
class WarnRow:
    """One warn as admins see it."""

    id: int
    label: str
    reason: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Warned:
    """A warn, whether it is new, whom to tell, and whether it reached the limit."""

    warn: WarnRow
    created: bool
    telegram_id: int
    in_force: int
    rules: SafetyRulesRow

    @property
    def reaches_limit(self) -> bool:
        """The community's warn_limit-th warn in force (or more): a ban follows."""
        return self.created and self.in_force >= self.rules.warn_limit


def _warn(row: RowMapping) -> WarnRow:
    return WarnRow(**{name: row[name] for name in WarnRow.__dataclass_fields__})


def _rules(row: Any) -> SafetyRulesRow:
    if row is None:
        return SafetyRulesRow()
    return SafetyRulesRow(
        warn_expiry_seconds=int(row.warn_expiry_seconds),
        warn_limit=int(row.warn_limit),
        warn_ban_seconds=int(row.warn_ban_seconds),
    )


def apply_safety_rule(name: str, value: str) -> dict[str, int]:
    """The column a ``/settings warn_… <value>`` changes; InvalidInputError says what is allowed."""
    name, value = name.strip().lower(), value.strip()
    if name == "warn_expiry":
        seconds = parse_duration(value, default_unit="d")
        if seconds < 1:
            raise InvalidInputError("warn_expiry must be a duration, e.g. 30d")
        return {"warn_expiry_seconds": seconds}
    if name == "warn_limit":
        if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
            raise InvalidInputError(f"warn_limit must be a number from 1 to {MAX_LIMIT}, e.g. 3")
        return {"warn_limit": int(value)}
    if name == "warn_ban":
        seconds = parse_duration(value, default_unit="d")
        if seconds < 60:
            raise InvalidInputError("warn_ban must be at least 1m, e.g. 7d")
        return {"warn_ban_seconds": seconds}
    raise InvalidInputError(f"unknown rule {name!r}: use " + ", ".join(RULE_NAMES))


def describe(rules: SafetyRulesRow) -> str:
    """The rules in one line, for admins: "3 warns within 30d → banned for 7d"."""
    return (
        f"{rules.warn_limit} warns within {format_duration(rules.warn_expiry_seconds)} "
        f"→ banned for {format_duration(rules.warn_ban_seconds)}"
    )


class WarnsRepository:
    """Warns by subject, and the community's warn rules."""

    def __init__(self, db: Database, subject_of: SubjectOf, seal: MemberSeal) -> None:
        self._db = db
        self._subject_of = subject_of
        self._seal = seal

    async def rules(self, community_id: int) -> SafetyRulesRow:
        """The community's warn rules."""
        statement = select(safety_rules).where(safety_rules.c.community_id == community_id)
        async with self._db.read_own() as conn:
            return _rules((await conn.execute(statement)).first())

    async def set_rules(self, community_id: int, changes: dict[str, int]) -> SafetyRulesRow:
        """Store ``changes`` (column → value); the others keep their value or default."""
        statement = (
            insert(safety_rules)
            .values(community_id=community_id, **changes)
            .on_conflict_do_update(index_elements=[safety_rules.c.community_id], set_=changes)
            .returning(safety_rules)
        )
        async with self._db.write() as conn:
            return _rules((await conn.execute(statement)).first())

    async def warn(
        self, community_id: int, member_id: int, *, label: str, reason: str, key: str
    ) -> Warned:
        """Warn a member's subject; a key seen before returns that warn (created False).

        The warns in force are counted under a lock on the subject, so two warns
        at once cannot both miss the limit.
        """
        async with self._db.write() as conn:
            telegram_id = await self._seal.open_member(conn, community_id, member_id)
            subject = self._subject_of(community_id, telegram_id)
            await conn.execute(
                select(func.pg_advisory_xact_lock(func.hashtext(f"warn:{community_id}:{subject}")))
            )
            rules = _rules(
                (
                    await conn.execute(
                        select(safety_rules).where(safety_rules.c.community_id == community_id)
                    )
                ).first()
            )
            inserted = (
                insert(warns)
                .values(
                    community_id=community_id,
                    subject=subject,
                    label=label,
                    reason=reason,
                    idempotency_key=key,
                    expires_at=func.now()
                    + func.make_interval(0, 0, 0, 0, 0, 0, rules.warn_expiry_seconds),
                )
                .on_conflict_do_nothing(constraint="warns_idempotency_key")
                .returning(*_COLUMNS)
            )
            row = (await conn.execute(inserted)).mappings().first()
            created = row is not None
            if row is None:
                row = (
                    (
                        await conn.execute(
                            select(*_COLUMNS).where(
                                warns.c.community_id == community_id,
                                warns.c.idempotency_key == key,
                            )
                        )
                    )
                    .mappings()
                    .one()
                )
            in_force = (
                await conn.execute(
                    select(func.count()).where(
                        warns.c.community_id == community_id,
                        warns.c.subject == subject,
                        warns.c.expires_at > func.now(),
                    )
                )
            ).scalar_one()
        return Warned(_warn(row), created, int(telegram_id), int(in_force), rules)

    async def list_warns(self, community_id: int, limit: int = 100) -> list[WarnRow]:
        """Warns in force, newest first: each warn its own entry."""
        statement = (
            select(*_COLUMNS)
            .where(warns.c.community_id == community_id, warns.c.expires_at > func.now())
            .order_by(warns.c.created_at.desc(), warns.c.id.desc())
            .limit(limit)
        )
        async with self._db.read_own() as conn:
            return [_warn(row) for row in (await conn.execute(statement)).mappings()]

    async def remove(self, community_id: int, warn_id: int) -> bool:
        """Remove one warn by id (whose it is plays no part)."""
        statement = delete(warns).where(warns.c.community_id == community_id, warns.c.id == warn_id)
        async with self._db.write() as conn:
            return bool((await conn.execute(statement)).rowcount)

    async def prune(self) -> int:
        """Delete warns that expired (retention)."""
        async with self._db.write() as conn:
            result = await conn.execute(delete(warns).where(warns.c.expires_at <= func.now()))
        return int(result.rowcount or 0)
