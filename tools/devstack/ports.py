"""Where each process of the local stack listens (all on 127.0.0.1)."""

from __future__ import annotations

import itertools
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# The band free_port walks: just below the kernel's ephemeral range, above the suite's
# fixed ports (Postgres 26432+, Redis 27101+ and their cluster buses at 17101+, each
# shifted by at most a few hundred).
_BAND_WIDTH = 4000


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _band() -> Iterator[int]:
    low = _ephemeral_low()
    start = max(1024, low - _BAND_WIDTH)
    ports = range(start, low)
    # A process-specific start keeps two tools started side by side (the suite and a
    # bench in another checkout) from walking the band in step.
    first = os.getpid() % len(ports)
    return itertools.cycle([*ports[first:], *ports[:first]])


# The walk is shared by every caller in this process so that no two calls hand out the
# same port before either is bound.
_WALK = _band()


def free_port() -> int:
    """An unused TCP port on 127.0.0.1, below the kernel's ephemeral range.

    Asking the kernel for port 0 returns an ephemeral port, and between our closing it
    and the server binding it an outgoing connection (to Postgres, Redis, a service)
    may take it as its local end: the server then dies with "address already in use".
    No outgoing connection takes a port below the ephemeral range, so the ports come
    from there, each one checked free and none handed out twice by this process."""
    for _ in range(_BAND_WIDTH):
        port = next(_WALK)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise RuntimeError("no free port below the kernel's ephemeral range")


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
