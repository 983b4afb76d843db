"""The update guard: one Redis round trip that drops duplicates and rate-limits.

Both keys of an update carry the same hash tag (bot + member), so one Lua script
can claim the ``update_id`` and take a token from the member's bucket atomically
on a single cluster node. The same update always maps to the same keys, so the
claim is exact: a duplicate is found however concurrently it arrives.

A claim is first "in flight" with a short TTL, and becomes "done" with a long
TTL once the update was handled. A gateway that dies mid-update leaves a claim
that expires, so Telegram's redelivery is handled rather than dropped.
"""

from __future__ import annotations

import enum

from redis.asyncio.cluster import RedisCluster

from veil.core.hashing import keyed_token

# KEYS[1] claim key, KEYS[2] bucket key.
# ARGV: in-flight TTL (s), burst, refill per ms, bucket TTL (ms).
# Returns {verdict, retry_after_ms}: 0 go, 1 duplicate, 2 in flight,
# 3 limited (first refusal: answer politely), 4 limited (already told).
_CLAIM_SCRIPT = """
if not redis.call('SET', KEYS[1], 'p', 'NX', 'EX', ARGV[1]) then
  if redis.call('GET', KEYS[1]) == 'd' then return {1, 0} end
  return {2, 0}
end
local burst = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local b = redis.call('HMGET', KEYS[2], 'tokens', 'ts', 'told')
local tokens = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or now
tokens = math.min(burst, tokens + (now - ts) * rate)
if tokens >= 1 then
  redis.call('HSET', KEYS[2], 'tokens', tostring(tokens - 1), 'ts', now, 'told', 0)
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
  return {0, 0}
end
local wait = math.ceil((1 - tokens) / rate)
redis.call('HSET', KEYS[2], 'tokens', tostring(tokens), 'ts', now, 'told', 1)
redis.call('PEXPIRE', KEYS[2], ARGV[4])
if b[3] == '1' then return {4, wait} end
return {3, wait}
"""


class Verdict(enum.IntEnum):
    """What to do with an incoming update."""

    PROCESS = 0
    DUPLICATE = 1
    IN_FLIGHT = 2
    LIMITED_ANSWER = 3
    LIMITED_SILENT = 4


class UpdateGuard:
    """Claims update ids and applies the per-member token bucket."""

    IN_FLIGHT_TTL_SECONDS = 60

    def __init__(
        self,
        redis: RedisCluster,
        *,
        id_key: bytes,
        burst: int,
        per_minute: int,
        done_ttl_seconds: int,
    ) -> None:
        self._redis = redis
        self._id_key = id_key
        self._burst = burst
        self._rate_per_ms = per_minute / 60_000
        self._bucket_ttl_ms = int(burst / self._rate_per_ms) + 1000
        self._done_ttl = done_ttl_seconds
        self._script = redis.register_script(_CLAIM_SCRIPT)

    def _keys(self, bot_id: int, update_id: int, user_id: int | None) -> tuple[str, str]:
        # The member's Telegram id never appears in Redis: the tag is keyed.
        tag = keyed_token(self._id_key, bot_id, user_id if user_id is not None else "-", length=9)
        return f"g:{{{tag}}}:u:{update_id}", f"g:{{{tag}}}:r"

    async def claim(self, bot_id: int, update_id: int, user_id: int | None) -> tuple[Verdict, int]:
        """Claim the update; returns the verdict and, when limited, the wait in ms."""
        claim_key, bucket_key = self._keys(bot_id, update_id, user_id)
        if user_id is None:
            # Updates without a member (channel posts, …) are only deduplicated.
            burst, rate = 1_000_000, 1_000_000.0
        else:
            burst, rate = self._burst, self._rate_per_ms
        verdict, wait_ms = await self._script(
            keys=[claim_key, bucket_key],
            args=[self.IN_FLIGHT_TTL_SECONDS, burst, repr(rate), self._bucket_ttl_ms],
        )
        return Verdict(int(verdict)), int(wait_ms)

    async def done(self, bot_id: int, update_id: int, user_id: int | None) -> None:
        """Mark the update handled: later deliveries of it are duplicates."""
        claim_key, _ = self._keys(bot_id, update_id, user_id)
        await self._redis.set(claim_key, b"d", ex=self._done_ttl)

    async def release(self, bot_id: int, update_id: int, user_id: int | None) -> None:
        """Forget the claim so that Telegram's redelivery is handled."""
        claim_key, _ = self._keys(bot_id, update_id, user_id)
        await self._redis.delete(claim_key)
