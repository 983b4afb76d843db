"""Trust-weighted reports: what one report weighs, and the SQL of a report and
of an admin's verdict on the comment it was about.

A report weighs, in hundredths of a full report (the README's formula)::

    20                                  every reporter (a new account: 0.2)
  + min(days since joining, 30)         tenure, up to 0.3
  + 20 × min(approved confessions, 2)   up to 0.4
  + 5 × min(their comments not hidden, 6)   up to 0.3
  + 25 × min(reports admins upheld, 4)  up to 1.0
  − 50 × reports on comments admins restored
  clamped to 0 … 200

A comment hides when the weights of its reports reach the community's
threshold (``/settings reports``, default ``VEIL_REPORT_THRESHOLD``, 3): three
new accounts (0.6) hide nothing, three established members (about 1 each) do.
When an admin restores a hidden comment, its reports are marked restored (the
reporters lose weight) and its total starts again from 0; when an admin
deletes it, they are marked upheld (the reporters gain weight). Reports of
confessions count in the same record (services/social/confession_reports.py):
taken down, upheld; kept, restored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Integer,
    Text,
    bindparam,
    case,
    exists,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.social import thread_states
from services.social.models import comments, confession_reports, reports
from services.social.rows import COMMENT_COLUMNS, HIDDEN, VISIBLE, CommentRow, comment_row
from veil.contracts.callbacks import ReportReason
from veil.core.db import Database
from veil.core.statements import Statement
from veil.v1 import common_pb2

# The reasons a reporter picks from (veil/contracts/callbacks.py): code → label on the card.
REASONS: dict[str, str] = {
    ReportReason.SPAM: "spam",
    ReportReason.HARASSMENT: "harassment",
    ReportReason.PERSONAL: "personal information",
    ReportReason.OTHER: "other",
}
UPHELD = "upheld"
RESTORED = "restored"

BASE = 20
MAX_WEIGHT = 200


@dataclass(frozen=True)
class Standing:
    """What a reporter's weight is made of."""

    days_member: int = 0
    confessions_approved: int = 0
    comments_shown: int = 0
    upheld: int = 0
    restored: int = 0


def weight(standing: Standing) -> int:
    """A report's weight in hundredths (see the module's formula)."""
    total = (
        BASE
        + min(max(standing.days_member, 0), 30)
        + 20 * min(standing.confessions_approved, 2)
        + 5 * min(standing.comments_shown, 6)
        + 25 * min(standing.upheld, 4)
        - 50 * standing.restored
    )
    return max(0, min(MAX_WEIGHT, total))


@dataclass(frozen=True)
class WeightedReport:
    """What one report did."""

    counted: bool
    hidden_now: bool
    reports: int
    # This report's weight and the comment's total now, in hundredths.
    weight: int
    total: int
    # "spam: 2 · other: 1" once it hid the comment (for the admins' card).
    reasons: str = ""


def _outcomes(subjects: ColumnElement[Any], outcome: str) -> ColumnElement[int]:
    """How many of the subjects' reports (``subjects``: an array of them), of
    comments and of confessions, ended so."""
    return (
        select(func.count())
        .where(reports.c.subject == func.any(subjects), reports.c.outcome == outcome)
        .scalar_subquery()
        + select(func.count())
        .where(
            confession_reports.c.subject == func.any(subjects),
            confession_reports.c.outcome == outcome,
        )
        .scalar_subquery()
    )


def _shown(community_id: Any, member_id: Any) -> ColumnElement[int]:
    """How many of the member's comments are not hidden, up to 6 (all the weight counts)."""
    shown = (
        select(comments.c.id)
        .where(
            comments.c.community_id == community_id,
            comments.c.member_id == member_id,
            comments.c.status == VISIBLE,
        )
        .limit(6)
        .subquery()
    )
    return select(func.count()).select_from(shown).scalar_subquery()


async def record(
    conn: AsyncConnection, community_id: int, member_id: int, subjects: list[str]
) -> tuple[int, int, int]:
    """(their comments not hidden (up to 6), reports upheld, reports restored):
    one record of comment and confession reports."""
    among = literal(subjects, ARRAY(Text))
    row = (
        await conn.execute(
            select(
                _shown(community_id, member_id),
                _outcomes(among, UPHELD),
                _outcomes(among, RESTORED),
            )
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


_COMMUNITY_ID = bindparam("community_id", type_=BigInteger)
_CONFESSION_ID = bindparam("confession_id", type_=BigInteger)
_COMMENT_ID = bindparam("comment_id", type_=BigInteger)
_SUBJECTS = bindparam("subjects", type_=ARRAY(Text))

# A report's first statement: the comment locked, with its figures, its
# thread's state and the reporter's record (none of which the lock guards).
_REPORT_LOCK = Statement(
    select(
        comments.c.status,
        comments.c.reports,
        comments.c.report_weight,
        thread_states.state_of(_CONFESSION_ID).label("state"),
        _shown(_COMMUNITY_ID, bindparam("member_id", type_=BigInteger)).label("shown"),
        _outcomes(_SUBJECTS, UPHELD).label("upheld"),
        _outcomes(_SUBJECTS, RESTORED).label("restored"),
    )
    .where(
        comments.c.community_id == _COMMUNITY_ID,
        comments.c.confession_id == _CONFESSION_ID,
        comments.c.id == _COMMENT_ID,
    )
    .with_for_update(of=comments),
    "report_lock",
)

# The second: the report, unless one of the subjects made one already (read
# after the lock; the primary key also stops the same subject twice), and
# the comment's new figures with it. No row: not counted.
_REPORTED = (
    insert(reports)
    .from_select(
        ["comment_id", "subject", "weight", "reason"],
        select(
            _COMMENT_ID,
            bindparam("subject", type_=Text),
            bindparam("weight", type_=Integer),
            bindparam("reason", type_=Text),
        ).where(
            ~exists().where(
                reports.c.comment_id == _COMMENT_ID, reports.c.subject == func.any(_SUBJECTS)
            )
        ),
    )
    .on_conflict_do_nothing()
    .returning(reports.c.comment_id)
    .cte("reported")
)
_REPORT_COUNT = Statement(
    update(comments)
    .where(comments.c.id == _COMMENT_ID, comments.c.id.in_(select(_REPORTED.c.comment_id)))
    .values(
        reports=comments.c.reports + 1,
        report_weight=bindparam("total", type_=Integer),
        status=bindparam("status", type_=Text),
    )
    .returning(comments.c.reports),
    "report_count",
)

_REASONS = Statement(
    select(reports.c.reason, func.count())
    .where(reports.c.comment_id == _COMMENT_ID)
    .group_by(reports.c.reason)
    .order_by(func.count().desc(), reports.c.reason),
    "report_reasons",
)


def reason_label(reason: str, count: int) -> str:
    """One reason on an admins' card with how many reports gave it ("spam: 2")."""
    return f"{REASONS.get(reason, reason)}: {count}"


def reasons_line(rows: Iterable[Sequence[Any]]) -> str:
    """(reason, count) rows, most given first, as the card's line of reasons."""
    return " · ".join(reason_label(reason, count) for reason, count in rows)


async def reasons_of(conn: asyncpg.Connection, comment_id: int) -> str:
    """The reasons of a comment's reports with their counts, most given first."""
    return reasons_line(await _REASONS.fetch(conn, comment_id=comment_id))


async def reasons_by_comment(conn: AsyncConnection, ids: list[int]) -> dict[int, list[str]]:
    """comment id → ["spam: 2", …] for the comments among ``ids`` that were reported."""
    if not ids:
        return {}
    rows = (
        await conn.execute(
            select(reports.c.comment_id, reports.c.reason, func.count())
            .where(reports.c.comment_id.in_(ids))
            .group_by(reports.c.comment_id, reports.c.reason)
            .order_by(reports.c.comment_id, func.count().desc(), reports.c.reason)
        )
    ).all()
    found: dict[int, list[str]] = {}
    for comment_id, reason, count in rows:
        found.setdefault(int(comment_id), []).append(reason_label(reason, count))
    return found


async def report(
    db: Database,
    *,
    community_id: int,
    confession_id: int,
    comment_id: int,
    member_id: int,
    subjects: list[str],
    reason: str,
    reporter: common_pb2.ReporterStanding,
    threshold: int,
    known_open: bool = False,
) -> WeightedReport:
    """Count one report per protected subject (``subjects[0]`` is the reporter's) with
    the reporter's weight; the report whose weight reaches ``threshold`` (hundredths)
    hides the comment. The comment's row is locked for the transaction, so of
    concurrent reports exactly one hides it.

    Two statements in the transaction (three when the report hides the
    comment: its reasons, for the admins' card): the lock, which also reads the
    thread's state and the reporter's record, and the report with the comment's
    new figures.
    """
    async with db.transaction() as conn:
        found = await _REPORT_LOCK.fetchrow(
            conn,
            community_id=community_id,
            confession_id=confession_id,
            comment_id=comment_id,
            member_id=member_id,
            subjects=subjects,
        )
        if found is None:
            raise LookupError("comment not found")
        thread_states.check(found["state"], known_open=known_open)
        weighs = reporter_weight(
            reporter, int(found["shown"]), int(found["upheld"]), int(found["restored"])
        )
        # The row is locked: its figures cannot move before the statement below.
        total = int(found["report_weight"]) + weighs
        hides = found["status"] == VISIBLE and total >= threshold
        counted = await _REPORT_COUNT.fetchval(
            conn,
            comment_id=comment_id,
            subject=subjects[0],
            subjects=subjects,
            weight=weighs,
            reason=reason,
            total=total,
            status=HIDDEN if hides else found["status"],
        )
        if counted is None:
            # One of the subjects reported it already (read after the lock).
            return WeightedReport(
                False, False, int(found["reports"]), 0, int(found["report_weight"])
            )
        return WeightedReport(
            True,
            hides,
            int(counted),
            weighs,
            total,
            await reasons_of(conn, comment_id) if hides else "",
        )


async def weight_of(
    conn: AsyncConnection,
    community_id: int,
    member_id: int,
    subjects: list[str],
    reporter: common_pb2.ReporterStanding,
) -> int:
    """The weight of this reporter's report, from their standing and their record here."""
    return reporter_weight(reporter, *await record(conn, community_id, member_id, subjects))


def reporter_weight(
    reporter: common_pb2.ReporterStanding, shown: int, upheld: int, restored: int
) -> int:
    """A report's weight from the reporter's standing (as the gateway sends it) and
    their record here: comments not hidden, reports upheld, reports restored."""
    return weight(
        Standing(
            days_member=reporter.days_member,
            confessions_approved=reporter.confessions_approved,
            comments_shown=shown,
            upheld=upheld,
            restored=restored,
        )
    )


async def moderate(
    db: Database,
    community_id: int,
    confession_id: int,
    comment_id: int,
    *,
    to: str,
    only_from: tuple[str, ...],
) -> CommentRow | None:
    """An admin's verdict: move the comment to ``to`` if it is in one of ``only_from``
    and settle its reports in the same transaction (restored: they count against
    their reporters and the total starts again; deleted: upheld)."""
    async with db.write() as conn:
        row = (
            (
                await conn.execute(
                    update(comments)
                    .where(comments.c.community_id == community_id)
                    .where(comments.c.confession_id == confession_id)
                    .where(comments.c.id == comment_id)
                    .where(comments.c.status.in_(only_from))
                    .values(
                        status=to,
                        report_weight=case(
                            (comments.c.status == HIDDEN, 0), else_=comments.c.report_weight
                        )
                        if to == VISIBLE
                        else comments.c.report_weight,
                    )
                    .returning(*COMMENT_COLUMNS)
                )
            )
            .mappings()
            .one_or_none()
        )
        if row is None:
            return None
        await conn.execute(
            update(reports)
            .where(reports.c.comment_id == comment_id, reports.c.outcome.is_(None))
            .values(outcome=RESTORED if to == VISIBLE else UPHELD)
        )
    return comment_row(row)


def threshold_of(rules: common_pb2.CommentRules, default_reports: int) -> int:
    """The community's threshold in hundredths (the deployment's default without one)."""
    return rules.report_threshold_hundredths or default_reports * 100
