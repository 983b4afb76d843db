"""The Redis Cluster client every process uses.

redis-py's cluster client follows MOVED/ASK redirections and refreshes its slot
map after a failover; the retry policy below covers the seconds in which a
replica is being promoted.
"""

from __future__ import annotations

from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


def parse_nodes(nodes: str) -> list[ClusterNode]:
    """Parse ``"host:port,host:port"`` into startup nodes."""
    result = []
    for item in nodes.split(","):
        host, _, port = item.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"bad Redis node {item!r}: expected host:port")
        result.append(ClusterNode(host, int(port)))
    if not result:
        raise ValueError("no Redis Cluster startup nodes given")
    return result


def create_redis_cluster(nodes: str, *, max_connections: int = 64) -> RedisCluster:
    """A cluster client on ``nodes`` that rides out a master failover."""
    return RedisCluster(
        startup_nodes=parse_nodes(nodes),
        decode_responses=False,
        max_connections=max_connections,
        socket_timeout=2.0,
        socket_connect_timeout=1.0,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=6),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        require_full_coverage=True,
    )


async def connect_redis_cluster(nodes: str, *, max_connections: int = 64) -> RedisCluster:
    """A cluster client with its slot map already loaded.

    redis-py loads the slot map on first use; a burst of commands on a fresh
    client races that load and some fail with AttributeError (6 bursts of 50
    in 60 here). Loading it before the first command avoids the race.
    """
    client = create_redis_cluster(nodes, max_connections=max_connections)
    await client.initialize()
    return client
