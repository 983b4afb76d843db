"""A decision taken in the Mini App: the same ModerateConfession as the card buttons.

Exactly one decision wins (the confessions service's conditional UPDATE); the
card in the admin chat is then edited as a button press edits it, by the
winner and the loser alike (an identical edit is "not modified": done), so the
chat and the Mini App agree.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from services.gateway.clients import ServiceClients
from services.gateway.registry import CommunityEntry
from services.gateway.replies import edit_card
from services.gateway.service_types import is_withdrawn
from services.gateway.views import texts
from services.gateway.views.cards import decided_card, outcome
from veil.contracts.callbacks import CardButton
from veil.contracts.texts import withdrawn_card
from veil.v1 import confessions_pb2

log = logging.getLogger(__name__)


# The Mini App's names of the statuses (its JavaScript reads these).
STATUS_NAMES = {
    confessions_pb2.CONFESSION_STATUS_PENDING: "pending",
    confessions_pb2.CONFESSION_STATUS_APPROVED: "approved",
    confessions_pb2.CONFESSION_STATUS_REJECTED: "rejected",
    confessions_pb2.CONFESSION_STATUS_PUBLISHED: "published",
    confessions_pb2.CONFESSION_STATUS_DELETED: "withdrawn",
}


@dataclass(frozen=True)
class Decided:
    """What the Mini App shows after a decision (numbers and an admin's name only)."""

    won: bool
    number: int
    status: str
    outcome: str

    def to_json(self) -> dict[str, object]:
        """The API's answer."""
        return {
            "won": self.won,
            "number": self.number,
            "status": self.status,
            "outcome": self.outcome,
        }


async def decide(
    services: ServiceClients,
    community: CommunityEntry,
    moderator: str,
    confession_id: int,
    action: CardButton,
    reason: str,
) -> Decided:
    """Decide (or learn who decided first), then bring the admin chat's card in line."""
    response = await services.moderate(
        community, confession_id, action, moderator=moderator, reason=reason
    )
    number = response.confession.number
    withdrawn = is_withdrawn(response)
    await _edit_card(services, community, confession_id, response, withdrawn=withdrawn)
    if withdrawn:
        shown = texts.WITHDRAWN
    elif response.won:
        shown = outcome(response)
    else:
        shown = f"Already handled: {outcome(response)}"
    return Decided(
        won=response.won,
        number=number,
        status=STATUS_NAMES.get(response.confession.status, "unknown"),
        outcome=shown,
    )


async def _edit_card(
    services: ServiceClients,
    community: CommunityEntry,
    confession_id: int,
    response: confessions_pb2.ModerateConfessionResponse,
    *,
    withdrawn: bool,
) -> None:
    card = await services.card(community.id, confession_id)
    if not card.message_id:
        # Not sent yet: when it arrives, its first press is told who decided
        # and edits it then.
        return
    html = (
        withdrawn_card(card.number)
        if withdrawn
        else decided_card(card.html, response, caption=card.caption)
    )
    try:
        await edit_card(
            community.bot,
            community.admin_chat_id,
            int(card.message_id),
            html=html,
            markup=None,
            caption=card.caption,
        )
    except Exception as error:
        # The decision stands whatever happens to the card; its buttons, if
        # pressed, then say who decided and edit it.
        log.warning(
            "card not edited after a Mini App decision",
            extra={"community": community.id, "error_type": type(error).__name__},
        )
