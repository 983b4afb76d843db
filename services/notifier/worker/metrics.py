"""Prometheus metrics of a notifier worker (one registry per worker, no globals)."""

from __future__ import annotations

from collections import deque

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from services.notifier.repository.rows import QueueStatRow

_WINDOW_BUCKETS = (0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0)


class WorkerMetrics:
    """Counters, gauges and the duplicate-window figures of one worker."""

    def __init__(self, samples: int = 20_000) -> None:
        self.registry = CollectorRegistry()
        self._count_outcomes(self.registry)
        self._time_calls(self.registry)
        self._gauge_queue(self.registry)
        # Answer→commit, and request-start→commit (the whole time in which the
        # outcome is unknown to the queue).
        self._answer_to_commit: deque[float] = deque(maxlen=samples)
        self._request_to_commit: deque[float] = deque(maxlen=samples)
        self._depth_labels: set[tuple[str, str]] = set()

    def _count_outcomes(self, r: CollectorRegistry) -> None:
        """Counters per community of what became of each message."""
        self.sent = Counter(
            "veil_notifier_sent", "Messages Telegram accepted", ["community"], registry=r
        )
        self.too_many_requests = Counter(
            "veil_notifier_429", "429 answers received", ["community"], registry=r
        )
        self.retries = Counter(
            "veil_notifier_retries",
            "Messages put back for a retry after a 5xx or network error",
            ["community"],
            registry=r,
        )
        self.dead_letters = Counter(
            "veil_notifier_dead_letters", "Messages given up on", ["community"], registry=r
        )
        self.dropped = Counter(
            "veil_notifier_dropped",
            "Messages dropped because the chat blocked the bot",
            ["community"],
            registry=r,
        )
        self.missed_slots = Counter(
            "veil_notifier_missed_slots",
            "Messages that left later than their slot's tolerance (counted from then on)",
            ["community"],
            registry=r,
        )
        self.throttled = Counter(
            "veil_notifier_throttled",
            "Messages given back to the queue because their bot's next slot was too far",
            ["community"],
            registry=r,
        )

    def _time_calls(self, r: CollectorRegistry) -> None:
        """Histograms of the Bot API call and of the duplicate window."""
        self.send_seconds = Histogram(
            "veil_notifier_send_seconds", "Bot API call duration", registry=r
        )
        self.record_seconds = Histogram(
            "veil_notifier_duplicate_window_seconds",
            "From Telegram's answer to the commit of the 'sent' row: a worker dying in "
            "this window makes the message go out twice",
            buckets=_WINDOW_BUCKETS,
            registry=r,
        )

    def _gauge_queue(self, r: CollectorRegistry) -> None:
        """Gauges of the queue, of this worker's messages and of the window's quantiles."""
        self.window_quantile = Gauge(
            "veil_notifier_duplicate_window_quantile_seconds",
            "Quantiles of the duplicate window over the last samples",
            ["quantile", "from"],
            registry=r,
        )
        self.queue_depth = Gauge(
            "veil_notifier_queue_depth",
            "Unsent messages",
            ["community", "priority"],
            registry=r,
        )
        self.oldest_age = Gauge(
            "veil_notifier_oldest_message_age_seconds",
            "Age of the oldest unsent message",
            ["community", "priority"],
            registry=r,
        )
        self.in_flight = Gauge("veil_notifier_in_flight", "Messages this worker holds", registry=r)

    def record_window(self, answer_to_commit: float, request_to_commit: float) -> None:
        """One sent message's duplicate window."""
        self.record_seconds.observe(answer_to_commit)
        self._answer_to_commit.append(answer_to_commit)
        self._request_to_commit.append(request_to_commit)

    def refresh_quantiles(self) -> None:
        """Recompute the p50/p99 gauges from the kept samples."""
        for name, samples in (
            ("answer", self._answer_to_commit),
            ("request", self._request_to_commit),
        ):
            if not samples:
                continue
            ordered = sorted(samples)
            for q in (0.5, 0.99):
                value = ordered[min(len(ordered) - 1, int(q * len(ordered)))]
                self.window_quantile.labels(str(q), name).set(value)

    def set_queue(self, rows: list[QueueStatRow]) -> None:
        """Replace the depth and age gauges with the latest figures."""
        seen: set[tuple[str, str]] = set()
        for row in rows:
            labels = (str(row.community_id), str(row.priority))
            seen.add(labels)
            self.queue_depth.labels(*labels).set(row.depth)
            self.oldest_age.labels(*labels).set(row.oldest_age_seconds)
        for labels in self._depth_labels - seen:
            self.queue_depth.labels(*labels).set(0)
            self.oldest_age.labels(*labels).set(0)
        self._depth_labels |= seen
