"""Telegram's flood limits, shared by every notifier worker through Redis Cluster.

Telegram counts a message when it *arrives*: at most ``count`` arrivals in any
``window`` seconds (30 per second per bot, 1 per second per private chat, 20 per
minute per group or channel). A worker knows when it *sends* a message and when
the answer comes back; the arrival is in between. So every limit keeps, per bot
and per chat, a sorted set of the latest possible arrival of recent messages,
and a new *slot* (the moment a message may leave) is at least one window after
the ``count``-th latest of them:

* a reserved message counts as arriving by ``slot + tolerance`` (``tolerance``
  is the safety margin times the window: 60 ms of a second at the default 6%);
* once answered, by the moment the answer came back (:meth:`complete`): a call
  that took longer than the tolerance pushes the next slots back, so a slow
  moment (a busy machine, a slow network) cannot pile arrivals into a window.

The per-bot limit also spaces slots evenly, one every ``(1 + margin) *
window / count``: messages leave smoothly, at ``1 / (1 + margin)`` of the
limit, and the spacing itself leaves every message the tolerance. A worker that
wakes up later than half of it after its slot moves the message's bound to the
moment it actually leaves (:meth:`confirm_late`). Slots are handed out only a
short horizon ahead, so every slot taken later knows the latest answers.

All times are the Redis clock (``TIME``), so the workers' clocks do not matter;
every key of one bot carries the bot's hash tag, so a script's keys share one
cluster slot. On a 429 the bot and the chat pause for ``retry_after``: no slot
is handed out before the pause ends.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from veil.core.hashing import keyed_token

log = logging.getLogger(__name__)

# KEYS: bot arrivals, chat arrivals, bot pause, chat pause, bot last slot.
# ARGV: bot count, bot window µs, chat count, chat window µs, spacing µs,
#       horizon µs, bot tolerance µs, chat tolerance µs, ttl ms, token.
# An arrivals key is a sorted set: token → latest possible arrival (µs).
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local slot = now
local bot_slot = now
local last = redis.call('GET', KEYS[5])
if last and tonumber(last) + tonumber(ARGV[5]) > slot then
  slot = tonumber(last) + tonumber(ARGV[5])
end
for i = 1, 2 do
  local pause = tonumber(redis.call('GET', KEYS[i + 2]) or '0')
  if pause > slot then slot = pause end
  local count = tonumber(ARGV[2 * i - 1])
  local window = tonumber(ARGV[2 * i])
  -- An arrival a window before now cannot share a window with a slot >= now.
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', string.format('%.0f', now - window))
  local nth = redis.call('ZREVRANGE', KEYS[i], count - 1, count - 1, 'WITHSCORES')
  if nth[2] then
    local edge = tonumber(nth[2]) + window
    if edge > slot then slot = edge end
  end
  -- The bot's own next slot, its chat aside: a refusal says which one binds.
  if i == 1 then bot_slot = slot end
end
local wait = slot - now
local bot_wait = string.format('%.0f', bot_slot - now)
if wait > tonumber(ARGV[6]) then
  return {0, string.format('%.0f', wait), bot_wait}
end
local ttl = tonumber(ARGV[9])
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], string.format('%.0f', slot + tonumber(ARGV[6 + i])), ARGV[10])
  redis.call('PEXPIRE', KEYS[i], ttl)
end
redis.call('SET', KEYS[5], string.format('%.0f', slot), 'PX', ttl)
return {1, string.format('%.0f', wait), bot_wait}
"""

# KEYS: bot arrivals, chat arrivals. ARGV: token, µs since the answer came.
# The message arrived before its answer. Only an existing reservation is updated.
_COMPLETE = """
local t = redis.call('TIME')
local answered = tonumber(t[1]) * 1000000 + tonumber(t[2]) - tonumber(ARGV[2])
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], 'XX', string.format('%.0f', answered), ARGV[1])
end
return 1
"""

# KEYS: bot arrivals, chat arrivals. ARGV: token, bot tolerance µs, chat tolerance µs.
# A late message leaves now: its latest possible arrival moves to now + tolerance.
_CONFIRM = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
for i = 1, 2 do
  redis.call('ZADD', KEYS[i], 'XX', string.format('%.0f', now + tonumber(ARGV[i + 1])), ARGV[1])
end
return 1
"""

# KEYS: bot arrivals, chat arrivals. ARGV: token.
_CANCEL = """
for i = 1, 2 do
  redis.call('ZREM', KEYS[i], ARGV[1])
end
return 1
"""

# KEYS: bot pause, chat pause. ARGV: seconds. The pause only ever grows.
_PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local until_us = now + tonumber(ARGV[1]) * 1000000
for i = 1, #KEYS do
  local current = tonumber(redis.call('GET', KEYS[i]) or '0')
  if until_us > current then
    redis.call('SET', KEYS[i], string.format('%.0f', until_us), 'PX',
               math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
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
    # Names the reservation for complete()/cancel().
    token: str = ""
    # How far the bot's own next slot is (its chat's limit aside): when this
    # is beyond the horizon, no message of the bot can leave sooner.
    bot_wait_seconds: float = 0.0


def is_private(chat_id: int) -> bool:
    """Private chats have positive ids (the user's id); groups and channels negative."""
    return chat_id > 0


class FloodLimiter:
    """Hands out sending slots that keep a bot within Telegram's limits.

    ``concurrency`` caps the scripts in flight: all keys of one bot live on one
    node, and the cluster client raises (it does not wait) when a node's
    connection pool is exhausted, so a worker holding hundreds of messages of
    one bot queues its calls here.
    """

    def __init__(
        self,
        redis: RedisCluster,
        *,
        id_key: bytes,
        safety_margin: float,
        horizon_seconds: float,
        concurrency: int = 16,
    ) -> None:
        self._redis = redis
        self._id_key = id_key
        self._gate = asyncio.Semaphore(concurrency)
        self._reserve = redis.register_script(_RESERVE)
        self._complete = redis.register_script(_COMPLETE)
        self._confirm = redis.register_script(_CONFIRM)
        self._cancel = redis.register_script(_CANCEL)
        self._pause = redis.register_script(_PAUSE)
        self._margin = safety_margin
        self._horizon_us = int(horizon_seconds * 1_000_000)

    @staticmethod
    def _counts(chat_id: int, limits: Limits) -> tuple[int, int]:
        """Messages per window: the bot's, the chat's."""
        if is_private(chat_id):
            chat = limits.per_private_chat_per_second
        else:
            chat = limits.per_group_per_minute
        return max(1, round(limits.per_second)), max(1, round(chat))

    @classmethod
    def _windows(cls, chat_id: int, limits: Limits) -> tuple[float, float]:
        """Window lengths in seconds: the bot's, the chat's."""
        bot_count, chat_count = cls._counts(chat_id, limits)
        if is_private(chat_id):
            chat_window = chat_count / limits.per_private_chat_per_second
        else:
            chat_window = 60.0 * chat_count / limits.per_group_per_minute
        return bot_count / limits.per_second, chat_window

    @property
    def horizon_seconds(self) -> float:
        """How far ahead a slot is handed out at most."""
        return self._horizon_us / 1_000_000

    def late_seconds(self, limits: Limits) -> float:
        """How late after its slot a message may still leave: half the bot's tolerance.

        (The other half is for the call's own delay until it arrives.)
        """
        return self._margin * max(1, round(limits.per_second)) / limits.per_second / 2

    def _keys(self, community_id: int, chat_id: int) -> tuple[str, str, str, str, str]:
        tag = f"veil:notifier:{{c{community_id}}}"
        # A private chat's id is the member's Telegram id: keys carry a keyed
        # token of it, never the id.
        chat = keyed_token(self._id_key, "chat", chat_id)
        return (
            f"{tag}:arrivals",
            f"{tag}:arrivals:{chat}",
            f"{tag}:pause",
            f"{tag}:pause:{chat}",
            f"{tag}:last",
        )

    async def reserve(
        self,
        community_id: int,
        chat_id: int,
        limits: Limits,
        token: str,
        within: float | None = None,
    ) -> Reservation:
        """Reserve the earliest slot for one message, or say how far it is.

        The slot is granted only within ``within`` seconds (at most the horizon):
        a slot the caller could not use would otherwise be spent for nothing.
        ``token`` is unique per reservation (message id and attempt).
        """
        horizon_us = self._horizon_us
        if within is not None:
            horizon_us = max(0, min(horizon_us, int(within * 1_000_000)))
        bot_count, chat_count = self._counts(chat_id, limits)
        bot_window, chat_window = self._windows(chat_id, limits)
        ttl_ms = int(max(bot_window, chat_window) * (1 + self._margin) * 1000) + 5_000
        async with self._gate:
            granted, wait_us, bot_wait_us = await self._reserve(
                keys=list(self._keys(community_id, chat_id)),
                args=[
                    bot_count,
                    int(bot_window * 1_000_000),
                    chat_count,
                    int(chat_window * 1_000_000),
                    int((1 + self._margin) * bot_window / bot_count * 1_000_000),
                    horizon_us,
                    int(self._margin * bot_window * 1_000_000),
                    int(self._margin * chat_window * 1_000_000),
                    ttl_ms,
                    token,
                ],
            )
        return Reservation(
            bool(int(granted)),
            max(0.0, float(wait_us) / 1_000_000),
            token,
            max(0.0, float(bot_wait_us) / 1_000_000),
        )

    async def complete(
        self, community_id: int, chat_id: int, token: str, answered_at: float
    ) -> None:
        """The call of a reservation was answered at ``answered_at`` (the loop's clock).

        Its arrival was before the answer; recording the answer's moment rather
        than now keeps the work done since (the sent-marker) out of the window.
        Never raises for Redis: Telegram's answer is known, and failing here
        (a Redis failover) kept it from being recorded, so the message was sent
        again (a second card in the second full chaos run). Without this the
        reservation keeps its bound (``slot + tolerance``): at worst a slow call
        makes the next message early and Telegram answers 429, which is waited
        out and retried.
        """
        bot, chat, *_ = self._keys(community_id, chat_id)
        # Not behind the gate: it is on the way to the sent-marker, and there
        # are only as many of these at once as calls in flight.
        ago = max(0.0, asyncio.get_running_loop().time() - answered_at)
        try:
            await self._complete(keys=[bot, chat], args=[token, int(ago * 1_000_000)])
        except RedisError as error:
            log.warning(
                "flood slot not completed; the answer is recorded all the same",
                extra={"community": community_id, "error_type": type(error).__name__},
            )

    async def confirm_late(
        self, community_id: int, chat_id: int, limits: Limits, token: str
    ) -> None:
        """A reserved message leaves later than its slot: count it from now.

        Safe because slots are only handed out a short horizon ahead (fewer
        than a window's count of them are ever reserved ahead of this one) and
        a chat has one message in flight at a time: every slot reserved after
        this counts the late arrival.
        """
        bot, chat, *_ = self._keys(community_id, chat_id)
        bot_window, chat_window = self._windows(chat_id, limits)
        async with self._gate:
            await self._confirm(
                keys=[bot, chat],
                args=[
                    token,
                    int(self._margin * bot_window * 1_000_000),
                    int(self._margin * chat_window * 1_000_000),
                ],
            )

    async def cancel(self, community_id: int, chat_id: int, token: str) -> None:
        """A reserved message was not sent after all: free its place in the windows."""
        bot, chat, *_ = self._keys(community_id, chat_id)
        async with self._gate:
            await self._cancel(keys=[bot, chat], args=[token])

    async def pause(self, community_id: int, chat_id: int, seconds: float) -> None:
        """Telegram said 429: nothing for this bot and chat for ``seconds``."""
        _, _, bot_pause, chat_pause, _ = self._keys(community_id, chat_id)
        async with self._gate:
            await self._pause(keys=[bot_pause, chat_pause], args=[seconds])
