"""CPU cost of sealing, per operation and per update: ``python -m tools.bench_sealing``.

A micro-measure (timeit, one core, no I/O) of what sealing adds to the hot
paths: every update registers its member (the lookup hash and a new member's
sealed columns, built whether or not the member exists, so that the upsert stays
one statement); a notice opens the member's chat, seals the queued call, and the
worker opens it. Payloads are realistic: a 300-character notice.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable

from services.confessions.sealed import MemberSeal
from services.notifier.recipients import chat_key, open_call, seal_call
from veil.core.sealing import Keyring, new_master_key

ROUNDS = 20_000


def _us(statement: Callable[[], object], number: int = ROUNDS) -> float:
    best = min(timeit.repeat(statement, number=number, repeat=5))
    return best / number * 1e6


def measure() -> dict[str, float]:
    """Microseconds per operation (best of 5 runs)."""
    keys = Keyring.parse(f"k1:{new_master_key()}", "x" * 43)
    seal = MemberSeal(keys)
    community, user = 12, 7_300_000_123
    member = seal.new_member(community, user)
    params = {"chat_id": user, "text": "💬 New comment on #123: " + "x" * 280, "parse_mode": "HTML"}
    key = "notice:123:456:abcdef"
    sealed = seal_call(keys, key, user, params)
    figures = {
        "member lookup hash": _us(lambda: seal.lookup(community, user)),
        "new member's sealed columns": _us(lambda: seal.new_member(community, user)),
        "open a member's chat": _us(
            lambda: seal.chat_id(community, member["lookup"], member["data_key"], member["chat"])
        ),
        "chat key (notifier)": _us(lambda: chat_key(keys, community, user)),
        "seal a queued call": _us(lambda: seal_call(keys, key, user, params)),
        "open a queued call (worker)": _us(lambda: open_call(keys, key, sealed)),
    }
    # Registering builds the new member's columns (their lookup hash included).
    figures["per update (register)"] = figures["new member's sealed columns"]
    figures["per notice (resolve, enqueue, send)"] = (
        figures["open a member's chat"]
        + figures["chat key (notifier)"]
        + figures["seal a queued call"]
        + figures["open a queued call (worker)"]
    )
    return figures


def main() -> None:
    """Print the figures."""
    for name, us in measure().items():
        print(f"{name:40s} {us:8.1f} µs")


if __name__ == "__main__":
    main()
