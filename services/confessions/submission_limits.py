"""Per-member submission limits (cooldown, daily cap), counted in Redis Cluster.

One Lua script checks and takes both at once; its keys share the member's hash
tag, so they live in one cluster slot. Keys carry the community's id and the
member's protected subject (a keyed token, veil.core.hashing.subject_token),
never a Telegram id, and expire on their own. The subject, unlike the member's
internal id, is the same again after /deleteme and a new /start, so erasing
oneself does not reset the cooldown or the daily cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio.cluster import RedisCluster

# KEYS: cooldown marker, today's counter. ARGV: cooldown ms, daily cap.
# Returns {0, 0} when taken, {1, ms left} in the cooldown, {2, ms left} over the cap.
_TAKE = """
local cooldown = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
if cooldown > 0 then
  local left = redis.call('PTTL', KEYS[1])
  if left > 0 then return {1, left} end
end
if cap > 0 then
  local used = tonumber(redis.call('GET', KEYS[2]) or '0')
  if used >= cap then return {2, redis.call('PTTL', KEYS[2])} end
end
if cooldown > 0 then redis.call('SET', KEYS[1], '1', 'PX', cooldown) end
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], 90000)
return {0, 0}
"""
# Gives a taken submission back (the confession could not be stored).
_REFUND = """
redis.call('DEL', KEYS[1])
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
if used > 0 then redis.call('DECR', KEYS[2]) end
return 1
"""


@dataclass(frozen=True)
class Refusal:
    """Why a submission was refused, and for how long."""

    cap: bool
    wait_ms: int


class SubmissionLimits:
    """Cooldown and daily cap of each member of each community."""

    def __init__(self, redis: RedisCluster) -> None:
        self._redis = redis
        self._take = redis.register_script(_TAKE)
        self._refund = redis.register_script(_REFUND)

    @staticmethod
    def _keys(community_id: int, subject: str) -> list[str]:
        tag = f"{{c{community_id}:s{subject}}}"
        day = datetime.now(UTC).strftime("%Y%m%d")
        return [f"limits:{tag}:cooldown", f"limits:{tag}:day:{day}"]

    async def take(
        self, community_id: int, subject: str, *, cooldown_seconds: int, daily_cap: int
    ) -> Refusal | None:
        """Take one submission of ``subject``; a Refusal when the member must wait."""
        code, left = await self._take(
            keys=self._keys(community_id, subject), args=[cooldown_seconds * 1000, daily_cap]
        )
        if int(code) == 0:
            return None
        return Refusal(cap=int(code) == 2, wait_ms=max(0, int(left)))

    async def refund(self, community_id: int, subject: str) -> None:
        """Give back a submission that was taken but not stored."""
        await self._refund(keys=self._keys(community_id, subject), args=[])


# KEYS: the hour's counter. ARGV: the cap. Returns ms left in the hour when over it, else 0.
_HOURLY = """
local used = redis.call('INCR', KEYS[1])
if used == 1 then redis.call('PEXPIRE', KEYS[1], 3600000) end
if used > tonumber(ARGV[1]) then return math.max(1, redis.call('PTTL', KEYS[1])) end
return 0
"""


class HourlyLimit:
    """At most ``per_hour`` of one kind of action per member per hour (e.g. messages
    to the admins), keyed like the submission limits: community and subject only."""

    def __init__(self, redis: RedisCluster, kind: str, per_hour: int) -> None:
        self._hourly = redis.register_script(_HOURLY)
        self._kind = kind
        self._per_hour = per_hour

    async def take(self, community_id: int, subject: str) -> int:
        """0 when taken; otherwise the milliseconds until the member may again."""
        key = f"limits:{{c{community_id}:s{subject}}}:{self._kind}"
        return int(await self._hourly(keys=[key], args=[self._per_hour]))
