"""Use case ModerateConfession, and the publication loop that follows an approval.

Where a confession is approved (or rejected, or rejected and its author banned):
:func:`moderate`. The decision is one conditional UPDATE in
:mod:`services.confessions.decision`, so of racing admins exactly one wins.

The publication loop, across three processes:

1. **Confessions queues the post.** An approval queues the channel post in the
   notifier (:func:`services.confessions.outgoing.decision_call`) under
   ``publication_key(community, confession)``, with ``not_before`` when the
   community spaces its posts (the decision statement reserved the slot).
   A rejection queues the author's notice instead. Both are queued on every
   call while the decision stands, so a retried press that lost to its own
   first attempt still finishes the work; the notifier keeps one per key.
2. **The notifier worker sends it** when its time comes, within the bot's
   rate limits (services/notifier/worker/sender.py), and retries
   Telegram's transient failures.
3. **The worker reports the post's message id back** through
   ``ConfessionsService.RecordPublication``: the sender recognises the call
   by its key (``parse_publication_key``) and
   services/notifier/worker/directory.py makes the RPC.
   :func:`record_publication` stores the id, moves approved → published and
   queues the author's "approved" notice with links to the post and its
   thread. A confession erased while its post was on the way is taken down
   again instead (``unpublish_call``). Reports are idempotent: a repeated one
   finds the confession published with the same post and queues nothing new.

A decision taken in the Mini App (``edit_card``) also queues the card's edit:
the notifier alone knows the card's message id (``edit_of``), so nothing is
reported back for cards, and a card still on its way is edited once sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.confessions import decision, domain, membership, outgoing
from services.confessions.cards import CardRetirement
from services.confessions.communities_repository import CommunitiesRepository
from services.confessions.confessions_repository import ConfessionsRepository
from services.confessions.dashboard_repository import DashboardRepository
from services.confessions.protection import ProtectionRepository
from services.confessions.rows import Decision
from veil.core.errors import NotFoundError
from veil.core.outbox import Outbox, OutgoingCall

# The statuses a decision leaves a confession in (a withdrawn one's card was
# already edited by the erasure).
_DECIDED = ("approved", "published", "rejected")


@dataclass(frozen=True)
class Press:
    """An admin's decision on a pending confession."""

    community_id: int
    confession_id: int
    # approved or rejected: the status the confession moves to.
    to: str
    # approve, reject or ban: the decision as stored.
    decision: str
    moderator: str
    reason: str
    # Taken away from the card (the Mini App): the card is edited too.
    edit_card: bool = False


@dataclass(frozen=True)
class Moderation:
    """What a decision needs beyond the confessions' own rows."""

    confessions: ConfessionsRepository
    communities: CommunitiesRepository
    protection: ProtectionRepository
    outbox: Outbox
    cards: CardRetirement
    dashboard: DashboardRepository


async def moderate(deps: Moderation, press: Press) -> Decision:
    """Decide on a pending confession (one decision wins) and queue what follows
    the decision that stands: the channel post, or the author's notice; a won
    ban also bans the author. Raises NotFoundError for an unknown confession."""
    decided = await decision.decide(
        deps.confessions.db,
        deps.confessions.seal,
        press.community_id,
        press.confession_id,
        to=press.to,
        decision=press.decision,
        moderator=press.moderator.strip()[:64] or "an admin",
        reason=press.reason.strip()[: domain.MAX_REASON_LENGTH],
    )
    if decided is None:
        raise NotFoundError(f"confession {press.confession_id} does not exist")
    stands = decided.decision
    if stands.won and press.decision == "ban":
        number = stands.confession.number
        await membership.ban(
            deps.protection,
            deps.communities,
            deps.outbox,
            deps.cards,
            press.community_id,
            stands.member_id,
            until=None,
            reason=f"confession #{number}",
            label=f"confession #{number}",
        )
    call = outgoing.decision_call(press.community_id, decided)
    calls = [] if call is None else [call]
    if press.edit_card and stands.confession.status in _DECIDED:
        calls += await _card_edit(deps, press.community_id, stands)
    if calls:
        await deps.outbox.send(calls)
    return stands


async def _card_edit(deps: Moderation, community_id: int, stands: Decision) -> list[OutgoingCall]:
    """The card's edit to the decision that stands (queued by winner and loser alike)."""
    card = await deps.dashboard.card(community_id, stands.confession.id)
    if card is None:
        return []
    community = await deps.communities.get_community(community_id)
    return [outgoing.decided_card_call(community_id, community.admin_chat_id, card, stands)]


async def record_publication(
    deps: Moderation, community_id: int, confession_id: int, channel_message_id: int
) -> bool:
    """Step 3 of the loop: the post was sent. Returns whether the confession is
    published (False: it was not waiting for a post, e.g. erased meanwhile)."""
    found = await deps.confessions.record_publication(
        community_id, confession_id, channel_message_id
    )
    if found is None:
        if await deps.confessions.is_deleted(community_id, confession_id):
            # Erased while its post was on the way: take the post down again.
            community = await deps.communities.get_community(community_id)
            await deps.outbox.send(
                [outgoing.unpublish_call(community, confession_id, channel_message_id)]
            )
        return False
    row, author = found
    community = await deps.communities.get_community(community_id)
    await deps.outbox.send([outgoing.published_call(community, row, author, channel_message_id)])
    return True
