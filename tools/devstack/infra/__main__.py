"""CLI::

python -m tools.devstack.infra {start,stop,status,destroy} [--root DIR] [--pg-port N]
    [--pg-replica-port N] [--redis-ports a,b,c,d,e,f]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from tools.devstack.infra.config import (
    DEFAULT_PG_PORT,
    DEFAULT_PG_REPLICA_PORT,
    DEFAULT_REDIS_PORTS,
    DEFAULT_ROOT,
    InfraConfig,
)
from tools.devstack.infra.lifecycle import destroy, start, status, stop
from tools.devstack.infra.processes import say


def _ports(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected comma-separated ports, got {text!r}") from exc


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.devstack.infra",
        description="Start/stop local Postgres (primary + replica) and a Redis Cluster.",
    )
    parser.add_argument("command", choices=("start", "stop", "status", "destroy"))
    parser.add_argument(
        "--root", type=Path, default=DEFAULT_ROOT, help=f"state folder (default: {DEFAULT_ROOT})"
    )
    parser.add_argument("--pg-port", type=int, default=DEFAULT_PG_PORT)
    parser.add_argument("--pg-replica-port", type=int, default=DEFAULT_PG_REPLICA_PORT)
    parser.add_argument(
        "--redis-ports",
        type=_ports,
        default=DEFAULT_REDIS_PORTS,
        help="comma-separated, e.g. 57001,57002,57003,57004,57005,57006",
    )
    args = parser.parse_args(argv)
    try:
        cfg = InfraConfig(
            root=args.root,
            pg_port=args.pg_port,
            pg_replica_port=args.pg_replica_port,
            redis_ports=args.redis_ports,
        )
    except ValueError as exc:
        parser.error(str(exc))
    try:
        if args.command == "start":
            began = time.monotonic()
            start(cfg)
            say(f"ready in {time.monotonic() - began:.1f}s")
            say(f"  postgres primary  {cfg.pg_dsn('<role>', driver='postgresql')}")
            say(f"  postgres replica  {cfg.pg_dsn('<role>', replica=True, driver='postgresql')}")
            say(f"  redis cluster     {cfg.redis_nodes()}")
        elif args.command == "stop":
            stop(cfg)
        elif args.command == "destroy":
            destroy(cfg)
        else:
            state = status(cfg)
            print(json.dumps(state))
            return 0 if all(state.values()) else 1
    except RuntimeError as exc:
        print(f"[devstack] error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
