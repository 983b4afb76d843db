"""Where each process of the local stack listens (all on 127.0.0.1)."""

from __future__ import annotations

import socket
from dataclasses import dataclass


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Ports:
    """Where each Veil process listens (all on 127.0.0.1)."""

    emulator: int = 58081
    gateway: int = 58080
    confessions: int = 58101
    social: int = 58102
    notifier: int = 58103
    notifier_worker_metrics: int = 58109
    # Prometheus /metrics of the other processes (VEIL_METRICS_PORT).
    gateway_metrics: int = 58110
    confessions_metrics: int = 58111
    social_metrics: int = 58112
    notifier_metrics: int = 58113

    @classmethod
    def ephemeral(cls) -> Ports:
        """Free ports picked now (tests run beside a ``make up`` without clashing)."""
        return cls(
            free_port(),
            free_port(),
            free_port(),
            free_port(),
            free_port(),
            notifier_worker_metrics=free_port(),
            gateway_metrics=free_port(),
            confessions_metrics=free_port(),
            social_metrics=free_port(),
            notifier_metrics=free_port(),
        )

    def metrics(self, name: str) -> int:
        """The /metrics port of process ``name`` (gateway, a service, notifier-worker)."""
        return int(getattr(self, f"{name.replace('-', '_')}_metrics"))
