"""A decision taken in the Mini App: the same ModerateConfession as the card buttons.

Exactly one decision wins (the confessions service's conditional UPDATE). The
same call has the confessions service queue the card's edit in the admin chat
(``edit_card``): the card then reads as a press of its buttons leaves it, so the
chat and the Mini App agree. The notifier sends the edit, by its own record of
the card's message; a card still on its way is edited once it is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.gateway.clients import ServiceClients
from services.gateway.registry import CommunityEntry
from services.gateway.service_types import is_withdrawn
from services.gateway.views import texts
from services.gateway.views.cards import outcome
from veil.contracts.callbacks import CardButton
from veil.v1 import confessions_pb2

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
        community, confession_id, action, moderator=moderator, reason=reason, edit_card=True
    )
    number = response.confession.number
    if is_withdrawn(response):
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
