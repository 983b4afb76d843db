"""Hidden comments and search in the Mini App.

Comments are shown by thread number and pseudonym only. Restoring or deleting
a hidden comment is the same ``ModerateComment`` as the buttons of its card in
the admin chat: only a hidden comment moves, so of the app and a card press
one wins (the other hears it was already handled).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import grpc

from services.gateway.clients import ServiceClients
from services.gateway.miniapp.decisions import STATUS_NAMES
from services.gateway.registry import CommunityEntry
from services.gateway.service_types import ThreadNotFoundError
from services.gateway.views import admin_texts
from veil.contracts.callbacks import HiddenButton
from veil.v1 import social_pb2

NUMBER = re.compile(r"^#?(\d{1,17})$")
PSEUDONYM = re.compile(r"^[A-Za-z]+ [A-Za-z]+ \d{1,3}$")
# What the Mini App may do with a hidden comment (banning its writer is the card's).
ACTIONS = {"restore": HiddenButton.RESTORE, "delete": HiddenButton.DELETE}


class SearchError(ValueError):
    """A query that is neither ``#N`` nor a pseudonym (400)."""


def _age(created: datetime) -> int:
    return max(0, int((datetime.now(UTC) - created).total_seconds()))


async def _comments_json(
    services: ServiceClients, community_id: int, found: social_pb2.ListAdminCommentsResponse
) -> list[dict[str, Any]]:
    ids = sorted({c.confession_id for c in found.comments})
    numbers = await services.confession_numbers(community_id, ids)
    return [
        {
            "id": c.id,
            "number": numbers[c.confession_id],
            "pseudonym": c.pseudonym,
            "text": c.text,
            "status": c.status,
            "reports": c.reports,
            # The reports' weighted total (a full report is 1) and reasons, never who.
            "weight": c.report_weight / 100,
            "reasons": list(c.reasons),
            # What a rule flagged and left in, as on its card: "⚠️ contains a phone number".
            "flagged": c.flagged.splitlines(),
            "age_seconds": _age(c.created_at.ToDatetime(tzinfo=UTC)),
        }
        for c in found.comments
        if c.confession_id in numbers
    ]


async def hidden(services: ServiceClients, community_id: int) -> dict[str, Any]:
    """The community's hidden comments, newest first."""
    found = await services.admin_comments(community_id, hidden_only=True)
    return {"comments": await _comments_json(services, community_id, found)}


async def search(services: ServiceClients, community_id: int, query: str) -> dict[str, Any]:
    """``#N``: that confession; a pseudonym: the comments written under it."""
    query = query.strip()
    number = NUMBER.match(query)
    if number is not None:
        try:
            confession = await services.confession_by_number(community_id, int(number.group(1)))
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.NOT_FOUND:
                raise
            return {"confession": None, "comments": []}
        return {
            "confession": {
                "id": confession.id,
                "number": confession.number,
                "status": STATUS_NAMES.get(confession.status, "unknown"),
                "text": confession.text,
                "media": confession.media.kind or None,
                "age_seconds": _age(confession.created_at.ToDatetime(tzinfo=UTC)),
            },
            "comments": [],
        }
    if PSEUDONYM.match(query) is None:
        raise SearchError("search for #N or a pseudonym such as Misty Heron 417")
    found_comments = await services.admin_comments(community_id, pseudonym=query)
    return {
        "confession": None,
        "comments": await _comments_json(services, community_id, found_comments),
    }


async def moderate(
    services: ServiceClients, community: CommunityEntry, comment_id: int, number: int, action: str
) -> dict[str, Any] | None:
    """Restore or delete a hidden comment of thread ``number``; None when no such thread."""
    try:
        thread = await services.thread(community, number)
    except ThreadNotFoundError:
        return None
    done = await services.moderate_comment(thread, comment_id, ACTIONS[action])
    return {
        "done": done,
        "outcome": admin_texts.HIDDEN_OUTCOMES[ACTIONS[action]] if done else admin_texts.NOT_HIDDEN,
    }
