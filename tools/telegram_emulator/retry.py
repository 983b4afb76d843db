"""How long the emulator keeps retrying a webhook delivery that failed.

Telegram retries an update whose webhook answered non-2xx (or did not answer)
with growing pauses for about an hour before it gives up; the next update of
the same chat waits meanwhile. The suite wants failure paths to end in seconds,
so the emulator's default is a short schedule (pauses doubling from 50 ms up to
2 s, about 5 s of pauses); ``make chaos`` runs with :meth:`RetrySchedule.telegram`.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Names accepted by ``--webhook-retries`` / ``VEIL_EMULATOR_WEBHOOK_RETRIES``.
SCHEDULES = ("short", "telegram")


@dataclass(frozen=True)
class RetrySchedule:
    """The pauses between delivery attempts (attempts = pauses + 1)."""

    pauses: tuple[float, ...]

    @property
    def attempts(self) -> int:
        """How many times an update is posted before it is given up."""
        return len(self.pauses) + 1

    @property
    def total_seconds(self) -> float:
        """The time spent pausing between the first and the last attempt."""
        return sum(self.pauses)

    @classmethod
    def short(cls, retries: int = 8, first: float = 0.05, cap: float = 2.0) -> RetrySchedule:
        """``retries`` attempts, the pause doubling from ``first`` up to ``cap``."""
        return cls(tuple(min(first * 2**i, cap) for i in range(max(1, retries) - 1)))

    @classmethod
    def telegram(
        cls, first: float = 1.0, cap: float = 300.0, total: float = 3600.0
    ) -> RetrySchedule:
        """Telegram's: pauses doubling from ``first`` to ``cap``, for about ``total`` seconds.

        The last pause is cut so that the pauses add up to exactly ``total``.
        """
        pauses: list[float] = []
        spent = 0.0
        pause = first
        while spent < total:
            step = min(pause, cap, total - spent)
            pauses.append(step)
            spent += step
            pause *= 2
        return cls(tuple(pauses))

    @classmethod
    def named(cls, name: str) -> RetrySchedule:
        """The schedule called ``name`` (one of :data:`SCHEDULES`)."""
        if name == "short":
            return cls.short()
        if name == "telegram":
            return cls.telegram()
        raise ValueError(f"unknown webhook retry schedule {name!r}; one of {SCHEDULES}")
