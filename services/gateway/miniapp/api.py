"""The Mini App's routes: its page and static files, and its JSON API.

Every API call is authenticated first (``initData`` of this community's bot,
fresh, from a member of its admin chat): 401 for missing, forged, stale or
another bot's initData, 403 for a valid user who is not an admin here, 404 for
an unknown community; nothing is read or changed before that. Bodies are
checked before any call (400 with what is wrong).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import orjson
from aiohttp import web

from services.gateway.admins import AdminCheck
from services.gateway.clients import ServiceClients
from services.gateway.miniapp import comments
from services.gateway.miniapp.auth import AuthError, WebAppUser, init_data_of, verify
from services.gateway.miniapp.decisions import decide
from services.gateway.miniapp.figures import figures
from services.gateway.miniapp.rules import RulesError, rules_json, settings_of
from services.gateway.registry import CommunityEntry, CommunityRegistry
from services.gateway.service_types import DECISIONS
from veil.contracts.callbacks import CardButton
from veil.contracts.lengths import REJECT_REASON_MAX_LENGTH
from veil.core import pii

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
APP_KEY = "miniapp"
MAX_BODY_BYTES = 4096
QUEUE_SIZE = 50
# The page is data-free; its API answers are never cached anywhere.
_NO_STORE = {"Cache-Control": "no-store"}


class ApiError(Exception):
    """A request the API refuses (status and a message for the admin)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class MiniApp:
    """What the handlers need, built with the gateway's other clients."""

    registry: CommunityRegistry
    services: ServiceClients
    admins: AdminCheck
    max_age_seconds: int


@dataclass(frozen=True)
class Caller:
    """An authenticated admin of one community."""

    community: CommunityEntry
    user: WebAppUser


Handler = Callable[[web.Request, MiniApp, Caller], Awaitable[dict[str, Any]]]


async def authenticate(request: web.Request, state: MiniApp) -> Caller:
    """The calling admin, or ApiError(401/403/404)."""
    community_id = int(request.match_info["community_id"])
    community = await state.registry.lookup(community_id)
    if community is None:
        raise ApiError(404, "no such community")
    try:
        user = verify(
            init_data_of(request.headers.get("Authorization")),
            community.bot.token,
            max_age_seconds=state.max_age_seconds,
        )
    except AuthError as error:
        raise ApiError(error.status, str(error)) from None
    if not await state.admins(community.bot, community.admin_chat_id, user.id):
        raise ApiError(403, "only members of this community's admin chat may moderate")
    return Caller(community, user)


def _json(payload: dict[str, Any], status: int = 200) -> web.Response:
    return web.json_response(payload, status=status, headers=_NO_STORE)


def api(handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Authenticate, run, and turn refusals into ``{"error": ...}`` with their status."""

    async def run(request: web.Request) -> web.Response:
        state: MiniApp | None = request.app.get(APP_KEY)
        if state is None:
            return _json({"error": "starting"}, 503)
        try:
            caller = await authenticate(request, state)
            return _json(await handler(request, state, caller))
        except ApiError as error:
            return _json({"error": str(error)}, error.status)
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return _json({"error": "not found"}, 404)
            if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
                return _json({"error": error.details() or "invalid"}, 400)
            log.error("Mini App call failed", extra={"code": error.code().name})
            return _json({"error": "try again"}, 503)

    return run


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ApiError(413, "body too large")
    # The app's client_max_size bounds a body without (or with a false) length.
    raw = await request.read()
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, "body too large")
    try:
        body = orjson.loads(raw)
    except ValueError:
        raise ApiError(400, "body must be JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "body must be a JSON object")
    return body


def _age_seconds(created: datetime) -> int:
    return max(0, int((datetime.now(UTC) - created).total_seconds()))


async def queue(request: web.Request, state: MiniApp, caller: Caller) -> dict[str, Any]:
    """The pending confessions, oldest first, with their age and count, and the reasons."""
    pending = await state.services.pending(caller.community, QUEUE_SIZE)
    rules = await state.services.rules(caller.community)
    return {
        "community": caller.community.title,
        "count": pending.total,
        "reasons": list(rules.reject_reasons),
        "max_reason": REJECT_REASON_MAX_LENGTH,
        "items": [
            {
                "id": item.confession.id,
                "number": item.confession.number,
                "text": item.confession.text,
                "media": item.confession.media.kind or None,
                "age_seconds": _age_seconds(item.confession.created_at.ToDatetime(tzinfo=UTC)),
                "flagged": item.flagged_word or None,
                # As on its card: "⚠️ contains a phone number" (rule flag).
                "pii": pii.flag_line(item.pii_found) if item.pii_found else None,
            }
            for item in pending.confessions
        ],
    }


async def decision(request: web.Request, state: MiniApp, caller: Caller) -> dict[str, Any]:
    """Approve, reject (with a listed or typed reason) or reject and ban the author."""
    body = await _body(request)
    names = [str(button) for button in DECISIONS]
    action = body.get("action")
    if action not in names:
        raise ApiError(400, f"action must be one of {', '.join(names)}")
    reason = body.get("reason", "")
    if not isinstance(reason, str):
        raise ApiError(400, "reason must be text")
    reason = reason.strip()
    if len(reason) > REJECT_REASON_MAX_LENGTH:
        raise ApiError(400, f"keep the reason under {REJECT_REASON_MAX_LENGTH} characters")
    if reason and action != "reject":
        raise ApiError(400, "only a rejection takes a reason")
    decided = await decide(
        state.services,
        caller.community,
        caller.user.first_name,
        int(request.match_info["confession_id"]),
        CardButton(action),
        reason,
    )
    return decided.to_json()


async def stats(request: web.Request, state: MiniApp, caller: Caller) -> dict[str, Any]:
    """The community's figures."""
    return (await figures(state.services, caller.community.id)).to_json()


async def rules(request: web.Request, state: MiniApp, caller: Caller) -> dict[str, Any]:
    """The community's rules as the form's fields."""
    return rules_json(await state.services.rules(caller.community))


async def set_rules(request: web.Request, state: MiniApp, caller: Caller) -> dict[str, Any]:
    """Store the form: every field checked, all stored or none."""
    try:
        settings = settings_of(await _body(request))
    except RulesError as error:
        raise ApiError(400, str(error)) from None
    return rules_json(await state.services.set_rules(caller.community.id, settings))


async def hidden_comments(request: web.Request, state: MiniApp, caller: Caller) -> dict[str, Any]:
    """Comments that reports hid, newest first."""
    return await comments.hidden(state.services, caller.community.id)


async def search(request: web.Request, state: MiniApp, caller: Caller) -> dict[str, Any]:
    """``?q=#N`` (a confession) or ``?q=<pseudonym>`` (the comments written under it)."""
    try:
        return await comments.search(
            state.services, caller.community.id, request.query.get("q", "")[:100]
        )
    except comments.SearchError as error:
        raise ApiError(400, str(error)) from None


async def comment_decision(request: web.Request, state: MiniApp, caller: Caller) -> dict[str, Any]:
    """Restore or delete a hidden comment (``{action, number}``: its thread's #N)."""
    body = await _body(request)
    action, number = body.get("action"), body.get("number")
    if action not in comments.ACTIONS:
        raise ApiError(400, f"action must be one of {', '.join(comments.ACTIONS)}")
    if isinstance(number, bool) or not isinstance(number, int) or not 0 < number < 10**17:
        raise ApiError(400, "number must be the thread's #N")
    result = await comments.moderate(
        state.services,
        caller.community,
        int(request.match_info["comment_id"]),
        number,
        str(action),
    )
    if result is None:
        raise ApiError(404, f"no open thread #{number}")
    return result


async def page(request: web.Request) -> web.StreamResponse:
    """The Mini App's page (no data in it: everything comes from the API)."""
    return web.FileResponse(
        STATIC / "index.html",
        headers={
            **_NO_STORE,
            "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
            "style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors *",
            "Referrer-Policy": "no-referrer",
        },
    )


def routes() -> list[web.AbstractRouteDef]:
    """Every Mini App route, mounted on the gateway's app."""
    base = "/miniapp/{community_id:\\d{1,18}}"
    return [
        web.get(base + "/", page),
        web.get(base, _redirect),
        web.get(base + "/api/queue", api(queue)),
        web.post(base + "/api/confessions/{confession_id:\\d{1,18}}/decision", api(decision)),
        web.get(base + "/api/stats", api(stats)),
        web.get(base + "/api/rules", api(rules)),
        web.get(base + "/api/comments/hidden", api(hidden_comments)),
        web.post(base + "/api/comments/{comment_id:\\d{1,18}}/decision", api(comment_decision)),
        web.get(base + "/api/search", api(search)),
        web.post(base + "/api/rules", api(set_rules)),
        web.static("/miniapp/static", STATIC),
    ]


async def _redirect(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(f"/miniapp/{request.match_info['community_id']}/")
