"""Telegram's flood limits, shared by every notifier worker through Redis Cluster.

Each limit is a sliding window: at most ``count`` messages in any ``window``
seconds, which is how Telegram (and Veil's emulator) counts. A worker reserves a
*slot*, a moment at which it may send, for the bot and the chat together in one
Lua script, then sleeps until that moment. Every key of one bot carries the
bot's hash tag, so the script's keys are in one cluster slot.

The per-bot limit (30/s) is kept as an even spacing (a window of one message
every 1/30 s): messages leave smoothly instead of in bursts of 30, so they also
*arrive* evenly and a few ms of network jitter cannot push 31 into one second.
A group's 20/min is a true sliding window (20 may leave at once). Windows are
stretched by a safety margin (default 6%): a slot is the moment a message
leaves, Telegram counts the moment it arrives.

On a 429 the bot and the chat pause for ``retry_after``: no slot is handed out
before the pause ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio.cluster import RedisCluster

# KEYS: bot slots, chat slots, bot pause, chat pause.
# ARGV: bot count, bot window µs, chat count, chat window µs, horizon µs, ttl ms.
# Each slots key is a list of reserved slot times (µs, Redis clock), oldest first,
# trimmed to the window's count: a new slot must be at or after the last one and
# at least a window after the count-th last one.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local slot = now
for i = 3, 4 do
  local pause = tonumber(redis.call('GET', KEYS[i]) or '0')
  if pause > slot then slot = pause end
end
for i = 1, 2 do
  local count = tonumber(ARGV[2 * i - 1])
  local window = tonumber(ARGV[2 * i])
  local last = redis.call('LINDEX', KEYS[i], -1)
  if last and tonumber(last) > slot then slot = tonumber(last) end
  if redis.call('LLEN', KEYS[i]) >= count then
    local edge = tonumber(redis.call('LINDEX', KEYS[i], -count)) + window
    if edge > slot then slot = edge end
  end
end
local wait = slot - now
if wait > tonumber(ARGV[5]) then
  return {0, tostring(wait)}
end
for i = 1, 2 do
  local count = tonumber(ARGV[2 * i - 1])
  redis.call('RPUSH', KEYS[i], tostring(slot))
  redis.call('LTRIM', KEYS[i], -count, -1)
  redis.call('PEXPIRE', KEYS[i], ARGV[6])
end
return {1, tostring(wait)}
"""

# KEYS: bot pause, chat pause. ARGV: seconds. The pause only ever grows.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local until_us = now + tonumber(ARGV[1]) * 1000000
for i = 1, #KEYS do
  local current = tonumber(redis.call('GET', KEYS[i]) or '0')
  if until_us > current then
    redis.call('SET', KEYS[i], tostring(until_us), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
  end
end
return 1
"""


@dataclass(frozen=True)
class Limits:
    """A community's sending limits."""

    per_second: float
    per_private_chat_per_second: float
    per_group_per_minute: float


@dataclass(frozen=True)
class Reservation:
    """The answer of :meth:`FloodLimiter.reserve`."""

    granted: bool
    # Granted: sleep this long, then send. Refused: the earliest slot is this far.
    wait_seconds: float


def is_private(chat_id: int) -> bool:
    """Private chats have positive ids (the user's id); groups and channels negative."""
    return chat_id > 0


class FloodLimiter:
    """Hands out sending slots that keep a bot within Telegram's limits."""

    def __init__(
        self, redis: RedisCluster, *, safety_margin: float, horizon_seconds: float
    ) -> None:
        self._redis = redis
        self._reserve = redis.register_script(_RESERVE)
        self._pause = redis.register_script(_PAUSE)
        self._stretch = 1.0 + safety_margin
        self._horizon_us = int(horizon_seconds * 1_000_000)

    @staticmethod
    def _keys(community_id: int, chat_id: int) -> tuple[str, str, str, str]:
        tag = f"veil:notifier:{{c{community_id}}}"
        return (f"{tag}:bot", f"{tag}:chat:{chat_id}", f"{tag}:pause", f"{tag}:pause:{chat_id}")

    async def reserve(self, community_id: int, chat_id: int, limits: Limits) -> Reservation:
        """Reserve the earliest slot within the horizon for one message, or say how far it is."""
        bot_window = self._stretch / limits.per_second
        if is_private(chat_id):
            chat_count, chat_window = 1, self._stretch / limits.per_private_chat_per_second
        else:
            # n per minute as a true sliding window of n (bursts allowed).
            chat_count = max(1, int(limits.per_group_per_minute))
            chat_window = 60.0 * self._stretch * chat_count / limits.per_group_per_minute
        ttl_ms = int(max(bot_window, chat_window) * 1000) + 5_000
        granted, wait_us = await self._reserve(
            keys=list(self._keys(community_id, chat_id)),
            args=[
                1,
                int(bot_window * 1_000_000),
                chat_count,
                int(chat_window * 1_000_000),
                self._horizon_us,
                ttl_ms,
            ],
        )
        return Reservation(bool(int(granted)), max(0.0, float(wait_us) / 1_000_000))

    async def pause(self, community_id: int, chat_id: int, seconds: float) -> None:
        """Telegram said 429: nothing for this bot and chat for ``seconds``."""
        _, _, bot_pause, chat_pause = self._keys(community_id, chat_id)
        await self._pause(keys=[bot_pause, chat_pause], args=[seconds])
