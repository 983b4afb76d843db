"""The update guard: one Redis round trip that drops duplicates, rate-limits and reads the FSM.

Every key of an update carries the same hash tag (bot + member): the claim, the
member's bucket and the member's FSM records (services/gateway/fsm.py builds
them on ``tag``), so one Lua script claims the ``update_id``, takes a token from
the bucket and reads the FSM state and data atomically on a single cluster node,
and one more marks the update done and writes the FSM changes. The same update
always maps to the same keys, so the claim is exact: a duplicate is found
however concurrently it arrives.

A claim is first "in flight" with a short TTL, and becomes "done" with a long
TTL once the update was handled. A gateway that dies mid-update leaves a claim
that expires, so Telegram's redelivery is handled rather than dropped.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence

from redis.asyncio.cluster import RedisCluster

from veil.contracts.cards import MemberTags

# KEYS[1] claim key, KEYS[2] bucket key, KEYS[3..] keys to read when the update goes ahead.
# ARGV: in-flight TTL (s), burst, refill per ms, bucket TTL (ms).
# Returns {verdict, retry_after_ms, values of KEYS[3..]}: 0 go, 1 duplicate,
# 2 in flight, 3 limited (first refusal: answer politely), 4 limited (already told).
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
  local out = {0, 0}
  for i = 3, #KEYS do out[i] = redis.call('GET', KEYS[i]) end
  return out
end
local wait = math.ceil((1 - tokens) / rate)
redis.call('HSET', KEYS[2], 'tokens', tostring(tokens), 'ts', now, 'told', 1)
redis.call('PEXPIRE', KEYS[2], ARGV[4])
if b[3] == '1' then return {4, wait} end
return {3, wait}
"""


# KEYS[1] claim key, KEYS[2..] records to write. ARGV[1] done TTL (s), ARGV[2]
# how many of the records (the first ones) are written unconditionally, then
# per record its value ('' deletes it) and TTL (s). The rest are created only
# where no key is (a card, never over a tombstone: veil/contracts/cards.py).
_FINISH_SCRIPT = """
redis.call('SET', KEYS[1], 'd', 'EX', ARGV[1])
local plain = tonumber(ARGV[2]) + 1
for i = 2, #KEYS do
  local value = ARGV[2 * i - 1]
  if i > plain then
    redis.call('SET', KEYS[i], value, 'EX', ARGV[2 * i], 'NX')
  elseif value == '' then
    redis.call('DEL', KEYS[i])
  else
    redis.call('SET', KEYS[i], value, 'EX', ARGV[2 * i])
  end
end
return 1
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
        self._tags = MemberTags(id_key)
        self._burst = burst
        self._rate_per_ms = per_minute / 60_000
        self._bucket_ttl_ms = int(burst / self._rate_per_ms) + 1000
        self._done_ttl = done_ttl_seconds
        self._script = redis.register_script(_CLAIM_SCRIPT)
        self._finish = redis.register_script(_FINISH_SCRIPT)

    def tag(self, bot_id: int, user_id: int | None) -> str:
        """The hash tag of every key of this member's updates (keyed: no Telegram id)."""
        return self._tags(bot_id, user_id)

    def _keys(self, bot_id: int, update_id: int, user_id: int | None) -> tuple[str, str]:
        tag = self.tag(bot_id, user_id)
        return f"g:{{{tag}}}:u:{update_id}", f"g:{{{tag}}}:r"

    async def claim(self, bot_id: int, update_id: int, user_id: int | None) -> tuple[Verdict, int]:
        """Claim the update; returns the verdict and, when limited, the wait in ms."""
        verdict, wait_ms, _ = await self.claim_and_read(bot_id, update_id, user_id, ())
        return verdict, wait_ms

    async def claim_and_read(
        self, bot_id: int, update_id: int, user_id: int | None, reads: Sequence[str]
    ) -> tuple[Verdict, int, list[bytes | None]]:
        """Claim the update and, if it goes ahead, read ``reads`` in the same round trip.

        ``reads`` must carry this member's ``tag`` (one cluster slot); the values
        are given in their order (None: no such key), empty unless PROCESS.
        """
        claim_key, bucket_key = self._keys(bot_id, update_id, user_id)
        if user_id is None:
            # Updates without a member (channel posts, …) are only deduplicated.
            burst, rate = 1_000_000, 1_000_000.0
        else:
            burst, rate = self._burst, self._rate_per_ms
        answer = await self._script(
            keys=[claim_key, bucket_key, *reads],
            args=[self.IN_FLIGHT_TTL_SECONDS, burst, repr(rate), self._bucket_ttl_ms],
        )
        verdict = Verdict(int(answer[0]))
        values: list[bytes | None] = []
        if verdict is Verdict.PROCESS:
            # Redis drops trailing nil replies from a script's array: pad them back.
            values = [v if isinstance(v, bytes) else None for v in answer[2:]]
            values += [None] * (len(reads) - len(values))
        return verdict, int(answer[1]), values

    async def done(
        self,
        bot_id: int,
        update_id: int,
        user_id: int | None,
        writes: Mapping[str, tuple[bytes | None, int]] | None = None,
        creates: Mapping[str, tuple[bytes, int]] | None = None,
    ) -> None:
        """Mark the update handled (later deliveries of it are duplicates) and apply
        ``writes``, then ``creates`` where no key is.

        ``writes``: key → (value, TTL in seconds), None deleting; ``creates``:
        key → (value, TTL), set only where the key does not exist. The keys must
        carry this member's ``tag``. One round trip, atomic.
        """
        claim_key, _ = self._keys(bot_id, update_id, user_id)
        writes, creates = writes or {}, creates or {}
        if not writes and not creates:
            await self._redis.set(claim_key, b"d", ex=self._done_ttl)
            return
        args: list[bytes | int] = [self._done_ttl, len(writes)]
        for value, ttl in (*writes.values(), *creates.values()):
            args += [value or b"", ttl]
        await self._finish(keys=[claim_key, *writes, *creates], args=args)

    async def release(self, bot_id: int, update_id: int, user_id: int | None) -> None:
        """Forget the claim so that Telegram's redelivery is handled."""
        claim_key, _ = self._keys(bot_id, update_id, user_id)
        await self._redis.delete(claim_key)
