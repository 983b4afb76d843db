"""Community figures for the Mini App and ``/stats``: numbers only, never who.

Confessions per day, approval rate and median time to a decision come from the
confessions service; the most commented posts and the members who commented
from the social service.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.gateway.clients import ServiceClients
from veil.core.durations import format_duration

DAYS = 14
TOP = 5


@dataclass(frozen=True)
class Figures:
    """A community's figures over the last ``days`` days."""

    days: int
    per_day: list[tuple[str, int]]
    approved: int
    rejected: int
    median_decision_seconds: float
    confessing_members: int
    commenting_members: int
    pending: int
    most_commented: list[tuple[int, int]]  # (confession number, comments)

    @property
    def approval_rate(self) -> float | None:
        """Approved among decided, 0..1 (None without decisions)."""
        decided = self.approved + self.rejected
        return self.approved / decided if decided else None

    def to_json(self) -> dict[str, object]:
        """The API's answer."""
        return {
            "days": self.days,
            "per_day": [{"day": day, "confessions": n} for day, n in self.per_day],
            "confessions": sum(n for _, n in self.per_day),
            "approved": self.approved,
            "rejected": self.rejected,
            "approval_rate": self.approval_rate,
            "median_decision_seconds": round(self.median_decision_seconds),
            "confessing_members": self.confessing_members,
            "commenting_members": self.commenting_members,
            "pending": self.pending,
            "most_commented": [
                {"number": number, "comments": n} for number, n in self.most_commented
            ],
        }

    def to_html(self) -> str:
        """``/stats`` in the admin chat (numbers only; no member text, nothing to escape)."""
        rate = self.approval_rate
        median = int(self.median_decision_seconds)
        lines = [
            f"<b>📊 Last {self.days} days</b>",
            f"Confessions: {sum(n for _, n in self.per_day)} "
            f"(today {self.per_day[-1][1] if self.per_day else 0}) · pending now: {self.pending}",
            f"Decisions: ✅ {self.approved} · ❌ {self.rejected}"
            + (f" · approval rate {rate:.0%}" if rate is not None else ""),
            "Median time to a decision: " + (_duration(median) if median else "–"),
            f"Active members: {self.confessing_members} confessed · "
            f"{self.commenting_members} commented",
        ]
        if self.most_commented:
            lines.append(
                "Most commented: "
                + ", ".join(f"#{number} ({n})" for number, n in self.most_commented)
            )
        return "\n".join(lines)


def _duration(seconds: int) -> str:
    """Rounded to the unit that reads best: 90 → "2m", 7300 → "2h"."""
    for size in (86400, 3600, 60):
        if seconds >= size:
            return format_duration(round(seconds / size) * size)
    return format_duration(seconds)


async def figures(services: ServiceClients, community_id: int) -> Figures:
    """Ask both services; the most commented confessions are named by number."""
    threads = await services.thread_stats(community_id, DAYS, TOP)
    ids = [item.confession_id for item in threads.most_commented]
    stats = await services.community_stats(community_id, DAYS, ids)
    return Figures(
        days=stats.days,
        per_day=[(day.day, day.confessions) for day in stats.per_day],
        approved=stats.approved,
        rejected=stats.rejected,
        median_decision_seconds=stats.median_decision_seconds,
        confessing_members=stats.confessing_members,
        commenting_members=threads.commenting_members,
        pending=stats.pending,
        most_commented=[
            (stats.numbers[item.confession_id], item.comments)
            for item in threads.most_commented
            if item.confession_id in stats.numbers
        ],
    )
