"""RPCs of the moderation Mini App, on top of :class:`ConfessionsServicer`.

The queue of pending confessions, the card each one got in the admin chat (so
that a decision taken in the Mini App edits the same card), and figures. None
of them returns a member's identity: confessions, numbers and counts only.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import grpc

from services.confessions import domain
from services.confessions.config import ConfessionsSettings
from services.confessions.dashboard_repository import DashboardRepository
from services.confessions.limits import SubmissionLimits
from services.confessions.protection import ProtectionRepository
from services.confessions.repository import ConfessionsRepository
from services.confessions.safety_rules import SAFETY_FIELDS
from services.confessions.servicer import ConfessionsServicer, _confession, _rules
from veil.core.errors import InvalidInputError, NotFoundError
from veil.core.grpc_errors import domain_errors
from veil.core.outbox import Outbox
from veil.v1 import confessions_pb2 as pb

DEFAULT_QUEUE = 50
MAX_QUEUE = 200
DEFAULT_DAYS = 14
MAX_DAYS = 90
MAX_NUMBERS = 50


class DashboardServicer(ConfessionsServicer):
    """The confessions service with the Mini App's RPCs."""

    def __init__(
        self,
        repository: ConfessionsRepository,
        dashboard: DashboardRepository,
        settings: ConfessionsSettings,
        *,
        outbox: Outbox,
        limits: SubmissionLimits,
        protection: ProtectionRepository,
    ) -> None:
        super().__init__(repository, settings, outbox=outbox, limits=limits, protection=protection)
        self._dashboard = dashboard

    @domain_errors
    async def ListPending(
        self, request: pb.ListPendingRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPendingResponse:
        """Pending confessions, oldest first, and how many there are."""
        if not 0 <= request.limit <= MAX_QUEUE:
            raise InvalidInputError(f"limit must be 0..{MAX_QUEUE}")
        rows, total = await self._dashboard.pending(
            request.community_id, request.limit or DEFAULT_QUEUE
        )
        return pb.ListPendingResponse(
            confessions=[
                pb.PendingConfession(
                    confession=_confession(row.confession), flagged_word=row.flagged_word or ""
                )
                for row in rows
            ],
            total=total,
        )

    @domain_errors
    async def RecordCard(
        self, request: pb.RecordCardRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordCardResponse:
        """Store the message id of a confession's card (reported by the notifier)."""
        if request.message_id <= 0:
            raise InvalidInputError("message_id must be positive")
        if not await self._dashboard.record_card(
            request.community_id, request.confession_id, request.message_id
        ):
            raise NotFoundError("no such confession in this community")
        return pb.RecordCardResponse()

    @domain_errors
    async def GetCard(
        self, request: pb.GetCardRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetCardResponse:
        """The card as it was sent: rebuilt from the confession and the author's history."""
        found = await self._dashboard.card(request.community_id, request.confession_id)
        if found is None:
            raise NotFoundError("no such confession in this community")
        row = found.confession
        html = domain.card(
            row.number,
            row.text,
            media_kind=row.media_kind,
            approved=found.approved,
            rejected=found.rejected,
            flagged_word=found.flagged_word,
            pii_found=found.pii_found,
        )
        return pb.GetCardResponse(
            message_id=found.message_id,
            html=html,
            caption=row.media_kind is not None,
            number=row.number,
        )

    @domain_errors
    async def GetCommunityStats(
        self, request: pb.GetCommunityStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.CommunityStats:
        """Confessions per day, decisions, median time to a decision, confessing members."""
        if not 0 <= request.days <= MAX_DAYS:
            raise InvalidInputError(f"days must be 0..{MAX_DAYS}")
        if len(request.number_of) > MAX_NUMBERS:
            raise InvalidInputError(f"at most {MAX_NUMBERS} ids in number_of")
        days = request.days or DEFAULT_DAYS
        figures = await self._dashboard.figures(request.community_id, days, request.number_of)
        return pb.CommunityStats(
            days=days,
            per_day=[pb.DayCount(day=d.isoformat(), confessions=n) for d, n in figures.per_day],
            approved=figures.approved,
            rejected=figures.rejected,
            median_decision_seconds=figures.median_decision_seconds,
            confessing_members=figures.confessing_members,
            pending=figures.pending,
            numbers=figures.numbers,
        )

    @domain_errors
    async def SetCommunityRules(
        self, request: pb.SetCommunityRulesRequest, context: grpc.aio.ServicerContext
    ) -> pb.CommunityRules:
        """Several rules at once: all checked first, then stored in one statement."""
        if not request.settings:
            raise InvalidInputError("no rule to change")
        rules = await self._repository.rules(request.community_id)
        changes: dict[str, Any] = {}
        for setting in request.settings:
            for name, value in _as_commands(setting):
                # A replaced list of reasons starts empty (/settings has no "clear" for it).
                change = (
                    {"reject_reasons": []}
                    if (name, value) == ("reasons", "clear")
                    else domain.apply_rule(rules, name, value)
                )
                changes |= change
                fields: dict[str, Any] = {
                    k: tuple(v) if isinstance(v, list) else v for k, v in change.items()
                }
                # The trust-and-safety rules live in rules.safety (safety_rules.py).
                safety = {k: v for k, v in fields.items() if k in SAFETY_FIELDS}
                rules = replace(
                    rules,
                    **{k: v for k, v in fields.items() if k not in safety},
                    safety=replace(rules.safety, **safety),
                )
        stored = await self._repository.set_rules(request.community_id, changes)
        return _rules(request.community_id, stored)

    @domain_errors
    async def GetConfessionNumbers(
        self, request: pb.GetConfessionNumbersRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetConfessionNumbersResponse:
        """Numbers of the community's confessions among the ids asked."""
        if len(request.confession_ids) > MAX_QUEUE:
            raise InvalidInputError(f"at most {MAX_QUEUE} ids")
        numbers = await self._dashboard.numbers(request.community_id, request.confession_ids)
        return pb.GetConfessionNumbersResponse(numbers=numbers)


def _as_commands(setting: pb.RuleSetting) -> list[tuple[str, str]]:
    """A form's setting as /settings commands: a list replaced is cleared, then refilled."""
    name = setting.name.strip().lower()
    if not setting.replace_list:
        return [(name, setting.value)]
    items = [item.strip() for item in setting.items]
    if any(not item or "\n" in item for item in items):
        raise InvalidInputError(f"{name}: one non-empty line per entry")
    if name == "words":
        if any("," in item for item in items):
            raise InvalidInputError("a filter word may not contain a comma")
        return [("words", "clear")] + ([("words", "add " + ", ".join(items))] if items else [])
    if name == "reasons":
        if len(items) > domain.MAX_REASONS:
            raise InvalidInputError(f"at most {domain.MAX_REASONS} reasons")
        return [("reasons", "clear")] + [("reasons", f"add {item}") for item in items]
    raise InvalidInputError("only words and reasons are lists")
