"""Reports of confessions on the channel (issue 16): weighted like a comment's
reports (services/social/reporting.py), one per protected subject. When the
weights reach the community's threshold the admins get a card with
🗑 Take down (ConfessionsService.TakeDownConfession, through the gateway) and
✔️ Keep; it names the reasons and the weighted total, never a reporter. The
verdict settles the reports in their reporters' record, the one a comment's
reports feed (reporting.record): taken down, upheld; kept, restored."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import grpc
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.social import notices, reporting
from services.social.models import confession_reports
from services.social.rows import subjects_of
from services.social.writers import WritersServicer
from veil.contracts.callbacks import ConfessionVerdict, VerdictButton
from veil.core.db import Database
from veil.core.errors import InvalidInputError
from veil.core.links import post_link
from veil.core.outbox import Outbox
from veil.v1 import common_pb2
from veil.v1 import social_pb2 as pb


@dataclass(frozen=True)
class ConfessionReport:
    """What one report of a confession did."""

    counted: bool
    # The weights crossed the threshold with this report: the card goes.
    carded: bool
    reports: int
    weight: int
    total: int
    reasons: str


async def report_confession(
    db: Database,
    *,
    community_id: int,
    confession_id: int,
    member_id: int,
    subject: str,
    reason: str,
    reporter: common_pb2.ReporterStanding,
    threshold: int,
) -> ConfessionReport:
    """Store one weighted report; the one whose weight crosses ``threshold`` cards it.

    The confession is locked for the transaction (an advisory lock on its id),
    so of concurrent reports exactly one crosses the threshold.
    """
    async with db.write() as conn:
        await conn.execute(select(func.pg_advisory_xact_lock(16, confession_id)))
        subjects = subjects_of(subject, member_id)
        weighs = await reporting.weight_of(conn, community_id, member_id, subjects, reporter)
        inserted = (
            await conn.execute(
                insert(confession_reports)
                .values(
                    confession_id=confession_id,
                    subject=subject,
                    community_id=community_id,
                    weight=weighs,
                    reason=reason,
                )
                .on_conflict_do_nothing()
                .returning(confession_reports.c.weight)
            )
        ).scalar_one_or_none()
        totals = (
            await conn.execute(
                select(func.count(), func.coalesce(func.sum(confession_reports.c.weight), 0)).where(
                    confession_reports.c.confession_id == confession_id
                )
            )
        ).one()
        reports, total = int(totals[0]), int(totals[1])
        if inserted is None:
            return ConfessionReport(False, False, reports, 0, total, "")
        carded = total >= threshold > total - weighs
        reasons = await _reasons(conn, confession_id) if carded else ""
        return ConfessionReport(True, carded, reports, weighs, total, reasons)


async def _reasons(conn: AsyncConnection, confession_id: int) -> str:
    """The card's line of reasons: each with its count, the most given first."""
    rows = (
        await conn.execute(
            select(confession_reports.c.reason, func.count())
            .where(confession_reports.c.confession_id == confession_id)
            .group_by(confession_reports.c.reason)
            .order_by(func.count().desc(), confession_reports.c.reason)
        )
    ).all()
    return reporting.reasons_line(rows)


async def settle(db: Database, community_id: int, confession_id: int, *, upheld: bool) -> int:
    """Store the admins' verdict on a confession's reports; how many it settled.

    Kept: the reports not settled yet are restored. Taken down: every report
    is upheld, over an earlier keep (the take-down is final). Repeating either
    changes nothing.
    """
    rows = confession_reports.c
    target = (rows.outcome.is_distinct_from(reporting.UPHELD)) if upheld else rows.outcome.is_(None)
    async with db.write() as conn:
        settled = await conn.execute(
            update(confession_reports)
            .where(rows.community_id == community_id, rows.confession_id == confession_id, target)
            .values(outcome=reporting.UPHELD if upheld else reporting.RESTORED)
        )
    return int(settled.rowcount or 0)


def reported_card(thread: pb.ThreadContext, report: ConfessionReport, threshold: int) -> str:
    """The admins' card of a confession that reports flagged (counts and reasons only)."""
    lines = [
        f"🚩 Confession #{thread.confession_number} was reported {report.reports} times.",
        f"⚖️ Weighted {report.total / 100:g} of {threshold / 100:g}",
    ]
    if report.reasons:
        lines.append(f"Reasons: {html.escape(report.reasons)}")
    if thread.channel_message_id:
        link = post_link(thread.channel_chat_id, thread.channel_message_id)
        lines.append(f'<a href="{link}">See the post</a>')
    return "\n".join(lines)


def reported_card_markup(number: int) -> dict[str, Any]:
    """Take down / Keep (see veil/contracts/callbacks.py)."""

    def button(label: str, action: VerdictButton) -> dict[str, str]:
        return {"text": label, "callback_data": ConfessionVerdict(action, number).pack()}

    return {
        "inline_keyboard": [
            [button("🗑 Take down", VerdictButton.TAKE_DOWN), button("✔️ Keep", VerdictButton.KEEP)]
        ]
    }


class SafetyServicer(WritersServicer):
    """The social service with reports of confessions (issue 16), on top of GetCommentWriter."""

    async def ReportConfession(
        self, request: pb.ReportConfessionRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReportConfessionResponse:
        """Count a weighted report of a confession; at the threshold, card it."""
        thread = request.thread
        if not thread.community_id or not thread.confession_id or not thread.confession_number:
            raise InvalidInputError("thread (community, confession id and number) is required")
        reason = request.reason or "other"
        if reason not in reporting.REASONS:
            raise InvalidInputError(f"reason must be one of {', '.join(reporting.REASONS)}")
        threshold = reporting.threshold_of(request.rules, self._settings.report_threshold)
        result = await report_confession(
            self._repository.db,
            community_id=thread.community_id,
            confession_id=thread.confession_id,
            member_id=request.member_id,
            subject=request.subject or f"m:{request.member_id}",
            reason=reason,
            reporter=request.reporter,
            threshold=threshold,
        )
        if result.carded and thread.admin_chat_id:
            await _card(self._outbox, thread, result, threshold)
        return pb.ReportConfessionResponse(
            counted=result.counted, carded=result.carded, weight=result.weight, total=result.total
        )

    async def SettleConfessionReports(
        self, request: pb.SettleConfessionReportsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SettleConfessionReportsResponse:
        """The admins' verdict on a reported confession, in its reporters' record."""
        if not request.community_id or not request.confession_id:
            raise InvalidInputError("community_id and confession_id are required")
        settled = await settle(
            self._repository.db,
            request.community_id,
            request.confession_id,
            upheld=request.upheld,
        )
        return pb.SettleConfessionReportsResponse(settled=settled)


async def _card(
    outbox: Outbox, thread: pb.ThreadContext, report: ConfessionReport, threshold: int
) -> None:
    card = notices.admin_card(
        thread,
        f"reported:{thread.confession_id}",
        reported_card(thread, report, threshold),
        reported_card_markup(thread.confession_number),
        link_preview_options={"is_disabled": True},
    )
    await outbox.send([card])
