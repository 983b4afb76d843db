"""The local stack's free ports: none an outgoing connection could be holding."""

from __future__ import annotations

import socket
from pathlib import Path

from tools.devstack.ports import Ports, free_port


def _ephemeral_low() -> int:
    return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])


def test_ports_lie_below_the_kernels_ephemeral_range_and_are_not_handed_out_twice() -> None:
    """An ephemeral port can be taken by a client socket's local end before the server
    binds it (CI saw a service die with "address already in use" that way)."""
    ports = Ports.ephemeral()
    picked = [*vars(ports).values(), *(free_port() for _ in range(20))]
    assert len(set(picked)) == len(picked)
    assert all(1024 <= port < _ephemeral_low() for port in picked)


def test_a_port_in_use_is_skipped() -> None:
    with socket.socket() as held:
        # Bind the port the walk hands out next; the walk must step past it.
        probe = free_port() + 1
        try:
            held.bind(("127.0.0.1", probe))
            held.listen()
        except OSError:
            pass  # another process holds it already: skipped all the same
        assert free_port() != probe
