"""The webhook endpoint: the hot path of Veil.

Each request is checked (community, secret token, size, shape), claimed in
Redis (duplicates dropped, members rate-limited, the member's FSM read: one
round trip) and handled *before* the answer: Telegram gets 200 only once the
update was handled (and its FSM changes written with "done": one more round
trip), 5xx when it should deliver it again. The 200 may carry one Bot API call
whose result nobody needs (services/gateway/webhook_reply.py). Telegram waits
for the answer before sending the next update of the same chat, which keeps a
member's updates in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from typing import Any

import orjson
from aiogram import Dispatcher
from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError
from redis.exceptions import RedisError

from services.gateway.cards import MemberCardSlot
from services.gateway.fsm import UpdateFsm, VeilStorage, done_handling, handling
from services.gateway.guard import UpdateGuard, Verdict
from services.gateway.member import MEMBER_CARD_KEY
from services.gateway.metrics import NO_HANDLER, PROBE_KEY, GatewayMetrics, UpdateProbe
from services.gateway.registry import CommunityEntry, CommunityRegistry
from services.gateway.slots import UpdateSlots
from services.gateway.views import texts
from services.gateway.webhook_reply import ReplySlot, answer_with, closing, in_reply, opening
from veil.contracts.cards import MEMBER_CARD_SECONDS, member_card_key
from veil.core.telemetry import annotate

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _ok() -> web.Response:
    return web.Response(status=200)


# How JSON spells a NUL character (a raw one is not valid JSON).
_NUL = b"\\u0000"


def _without_nul(value: Any) -> Any:
    """``value`` (parsed JSON) with every NUL character removed from its strings."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


# What no handler reads of the message a pressed button is under.
_UNREAD_OF_PRESSED = ("reply_markup", "entities", "caption_entities")


def without_unread_parts(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` without what no handler reads: the keyboard and the formatting
    of the message a pressed button is under.

    Telegram sends that message whole. A thread page's 28 buttons are about
    100 µs of aiogram's validation, and its dozen entities (a bold name and a
    quote per comment) about 60 µs more, for a keyboard every handler replaces
    and formatting none reads: a handler edits such a message by id, with its
    own text or only new buttons. Its text and caption stay (whether a message
    has a caption decides how it is edited).
    """
    query = raw.get("callback_query")
    message = query.get("message") if isinstance(query, dict) else None
    if isinstance(message, dict):
        for part in _UNREAD_OF_PRESSED:
            message.pop(part, None)
    return raw


def _sender_id(event: Any) -> int | None:
    user = getattr(event, "from_user", None)
    return user.id if user is not None else None


class WebhookHandler:
    """aiohttp handler for ``POST /webhook/{community_id}``."""

    def __init__(
        self,
        registry: CommunityRegistry,
        dispatcher: Dispatcher,
        guard: UpdateGuard,
        *,
        max_bytes: int,
        deadline_seconds: float,
        context: dict[str, Any],
        metrics: GatewayMetrics,
        slots: UpdateSlots,
    ) -> None:
        self._registry = registry
        self._dispatcher = dispatcher
        self._guard = guard
        self._max_bytes = max_bytes
        self._deadline = deadline_seconds
        self._context = context
        self._metrics = metrics
        # Bounds the updates between their claim and "done", and so the Redis
        # connections they hold: a burst past it waits in line.
        self._slots = slots

    async def __call__(self, request: web.Request) -> web.Response:
        """Check, claim and handle one update."""
        raw_id = request.match_info["community_id"]
        community = await self._registry.lookup(int(raw_id)) if raw_id.isdigit() else None
        if community is None:
            log.warning("update for unknown community", extra={"path_id": raw_id[:32]})
            self._metrics.rejected.labels("unknown community").inc()
            return web.Response(status=404, text="unknown community")
        secret = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(secret.encode(), community.secret_token.encode()):
            log.warning("wrong or missing secret token", extra={"community": community.id})
            self._metrics.rejected.labels("secret token").inc()
            return web.Response(status=401, text="unauthorized")
        update = await self._parse(request, community)
        if update is None:
            return _ok()
        return await self._handle(community, update)

    async def _parse(self, request: web.Request, community: CommunityEntry) -> Update | None:
        """The update, or None after logging why it is dropped.

        Dropped updates still get 200: Telegram would otherwise redeliver a bad
        update forever.
        """
        reason: str | None = None
        if request.content_length is not None and request.content_length > self._max_bytes:
            reason = "oversized"
        else:
            body = await request.content.read(self._max_bytes + 1)
            if len(body) > self._max_bytes:
                reason = "oversized"
            else:
                try:
                    raw = orjson.loads(body)
                except orjson.JSONDecodeError:
                    raw, reason = None, "malformed json"
                if reason is None and not (
                    isinstance(raw, dict) and isinstance(raw.get("update_id"), int)
                ):
                    reason = "not an update object"
                if reason is None and _NUL in body:
                    # Postgres stores no NUL in text, and no client sends one:
                    # the rest of the update is handled as if it were not there.
                    raw = _without_nul(raw)
                    log.info(
                        "NUL characters removed from update",
                        extra={"community": community.id, "reason": "NUL character"},
                    )
                if reason is None:
                    try:
                        update = Update.model_validate(
                            without_unread_parts(raw), context={"bot": community.bot}
                        )
                        update.event_type  # noqa: B018 - raises on unknown update kinds
                        return update
                    except ValidationError as error:
                        reason = f"invalid update: {error.error_count()} field errors"
                    except Exception:  # aiogram's UpdateTypeLookupError
                        reason = "unknown update type"
        log.warning("update dropped", extra={"community": community.id, "reason": reason})
        self._metrics.dropped.labels(str(reason).partition(":")[0]).inc()
        return None

    async def _handle(self, community: CommunityEntry, update: Update) -> web.Response:
        started = time.perf_counter()
        update_type = update.event_type
        probe = UpdateProbe()
        annotate(
            {
                "veil.community_id": community.id,
                "veil.update_id": update.update_id,
                "veil.update_type": update_type,
            }
        )
        outcome = "error"
        try:
            async with self._slots:
                response, outcome = await self._claim_and_feed(community, update, probe)
            return response
        finally:
            self._metrics.updates.labels(update_type, probe.handler, outcome).inc()
            if probe.handler != NO_HANDLER:
                self._metrics.update_seconds.labels(update_type, probe.handler).observe(
                    time.perf_counter() - started
                )
            annotate({"veil.outcome": outcome})

    def _fsm_keys(
        self, update: Update, community: CommunityEntry, user_id: int | None
    ) -> list[str]:
        """The FSM state and data keys aiogram reads for this update (the claim's slot)."""
        storage = self._dispatcher.storage
        if user_id is None or not isinstance(storage, VeilStorage):
            return []
        event = UserContextMiddleware.resolve_event_context(update)
        context = self._dispatcher.fsm.resolve_context(
            community.bot,
            event.chat_id,
            event.user_id,
            thread_id=event.thread_id,
            business_connection_id=event.business_connection_id,
        )
        if context is None or context.key.user_id != user_id:
            return []
        return list(storage.keys(context.key))

    async def _claim_and_feed(
        self, community: CommunityEntry, update: Update, probe: UpdateProbe
    ) -> tuple[web.Response, str]:
        """The answer to Telegram and the outcome (for metrics and the span)."""
        user_id = _sender_id(update.event)
        bot = community.bot
        fsm_keys = self._fsm_keys(update, community, user_id)
        tag = self._guard.tag(bot.id, user_id)
        # The member's card rides with the claim (services/gateway/cards.py).
        card_key = member_card_key(tag) if user_id is not None else None
        reads = [*fsm_keys, card_key] if card_key is not None else fsm_keys
        try:
            verdict, wait_ms, values = await self._guard.claim_and_read(
                bot.id, update.update_id, user_id, reads
            )
        except RedisError as error:
            # Without the claim there is no dedupe: Telegram must try again later.
            log.warning(
                "redis unavailable; Telegram will redeliver",
                extra={"community": community.id, "error_type": type(error).__name__},
            )
            return web.Response(status=503, text="try again"), "redis unavailable"
        turned_away = await self._turn_away(community, update, user_id, verdict, wait_ms)
        if turned_away is not None:
            return turned_away
        # The member's FSM records as the claim read them; changes are written
        # with "done", only if the update is handled.
        update_fsm = UpdateFsm(
            tag, dict(zip(fsm_keys, values, strict=False)), together=tuple(fsm_keys)
        )
        card = MemberCardSlot(card_key, values[-1]) if card_key is not None else None
        slot = ReplySlot()
        fsm_token, slot_token = handling(update_fsm), opening(slot)
        try:
            async with asyncio.timeout(self._deadline):
                result = await self._dispatcher.feed_update(
                    bot,
                    update,
                    community=community,
                    **self._context,
                    **{PROBE_KEY: probe, MEMBER_CARD_KEY: card},
                )
            if isinstance(result, TelegramMethod):
                await in_reply(result)
        except Exception as error:
            return await self._failed(community, update, user_id, error), "error"
        finally:
            closing(slot_token)
            done_handling(fsm_token)
        try:
            await self._guard.done(
                bot.id,
                update.update_id,
                user_id,
                update_fsm.to_write(),
                {card.key: (card.new, MEMBER_CARD_SECONDS)} if card and card.new else None,
            )
        except RedisError as error:
            if update_fsm.writes:
                # The member's new state is not saved: handle the update again.
                return await self._failed(community, update, user_id, error), "error"
            # The update is handled: answer 200 even if Redis cannot record it;
            # the in-flight claim still turns redeliveries away until it expires.
        if slot.method is not None:
            self._metrics.bot_api_calls.labels(slot.method.__api_method__, "webhook answer").inc()
        return await answer_with(bot, slot), "ok"

    async def _turn_away(
        self,
        community: CommunityEntry,
        update: Update,
        user_id: int | None,
        verdict: Verdict,
        wait_ms: int,
    ) -> tuple[web.Response, str] | None:
        """The answer to an update the claim turned away, or None to handle it."""
        if verdict is Verdict.DUPLICATE:
            log.info(
                "duplicate update dropped",
                extra={"community": community.id, "update_id": update.update_id},
            )
            self._metrics.dedupe_hits.labels("done").inc()
            return _ok(), "duplicate"
        if verdict is Verdict.IN_FLIGHT:
            # Another pod is handling it right now; if that pod dies, Telegram's
            # next attempt finds the expired claim and handles the update.
            self._metrics.dedupe_hits.labels("in flight").inc()
            return web.Response(status=503, text="in flight"), "in flight"
        if verdict in (Verdict.LIMITED_ANSWER, Verdict.LIMITED_SILENT):
            log.info("rate limited", extra={"community": community.id})
            answered = verdict is Verdict.LIMITED_ANSWER
            self._metrics.rate_limited.labels(str(answered).lower()).inc()
            if answered:
                await self._answer_limited(community, update, wait_ms)
            await self._guard.done(community.bot.id, update.update_id, user_id)
            return _ok(), "rate limited"
        return None

    async def _failed(
        self, community: CommunityEntry, update: Update, user_id: int | None, error: Exception
    ) -> web.Response:
        """Release the claim and ask Telegram to deliver the update again."""
        # A claim that cannot be released expires by itself (in-flight TTL).
        with contextlib.suppress(RedisError):
            await self._guard.release(community.bot.id, update.update_id, user_id)
        log.error(
            "update failed; Telegram will redeliver",
            extra={
                "community": community.id,
                "update_id": update.update_id,
                "error_type": type(error).__name__,
            },
        )
        return web.Response(status=500, text="try again")

    async def _answer_limited(
        self, community: CommunityEntry, update: Update, wait_ms: int
    ) -> None:
        text = texts.slow_down(wait_ms)
        try:
            if update.callback_query is not None:
                await community.bot.answer_callback_query(update.callback_query.id, text=text)
            elif update.message is not None and update.message.chat.type == "private":
                await community.bot.send_message(update.message.chat.id, text)
        except Exception as error:
            log.warning(
                "could not send rate-limit notice", extra={"error_type": type(error).__name__}
            )
