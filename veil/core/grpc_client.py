"""gRPC channels to Veil services: round-robin over every pod, deadlines, retries.

Every Veil RPC is safe to retry: reads are reads, and writes carry an
idempotency key or are upserts. So the channel retries UNAVAILABLE (a pod gone
mid-call, a connection refused during a rollout) for every method.
"""

from __future__ import annotations

import json

import grpc
from google.protobuf.descriptor import FileDescriptor

DEFAULT_TIMEOUT_SECONDS = 5.0


def _service_config(service_names: list[str], timeout_seconds: float) -> str:
    return json.dumps(
        {
            "loadBalancingConfig": [{"round_robin": {}}],
            "methodConfig": [
                {
                    "name": [{"service": name} for name in service_names],
                    "timeout": f"{timeout_seconds:.3f}s",
                    "retryPolicy": {
                        "maxAttempts": 4,
                        "initialBackoff": "0.1s",
                        "maxBackoff": "1s",
                        "backoffMultiplier": 2,
                        "retryableStatusCodes": ["UNAVAILABLE"],
                    },
                }
            ],
        }
    )


def create_channel(
    target: str,
    service_names: list[str],
    *,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
) -> grpc.aio.Channel:
    """An insecure channel (in-cluster traffic) to ``target``.

    ``target`` may be ``host:port`` or ``dns:///service.namespace:port``; with a
    headless Service the DNS name resolves to every pod and ``round_robin``
    spreads calls across them.
    """
    return grpc.aio.insecure_channel(
        target,
        options=[
            ("grpc.service_config", _service_config(service_names, timeout_seconds)),
            ("grpc.enable_retries", 1),
            ("grpc.keepalive_time_ms", 30_000),
            # Re-resolve DNS quickly when pods come and go.
            ("grpc.dns_min_time_between_resolutions_ms", 5_000),
            # gRPC's default reconnect backoff grows to two minutes; a restarted
            # service must be reachable again within seconds.
            ("grpc.initial_reconnect_backoff_ms", 200),
            ("grpc.max_reconnect_backoff_ms", 2_000),
        ],
    )


def service_name(file_descriptor: FileDescriptor, service: str) -> str:
    """Fully qualified name of ``service`` declared in ``file_descriptor``."""
    return str(file_descriptor.services_by_name[service].full_name)


def service_names(file_descriptor: FileDescriptor) -> list[str]:
    """Fully qualified names of every service declared in ``file_descriptor`` (a
    channel to a process serving them all retries every one of them)."""
    return [str(service.full_name) for service in file_descriptor.services_by_name.values()]
