"""Use cases of MembersService that do more than one thing: registering (and
becoming reachable again), banning, notices by internal id, erasure.

Each queues its Bot API calls (built in :mod:`services.confessions.outgoing`)
in the notifier through the :class:`Outbox`; the SQL is in the repositories.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.confessions import notify_members, outgoing, registration
from services.confessions.cards import CardRetirement
from services.confessions.communities_repository import CommunitiesRepository
from services.confessions.members_repository import MembersRepository
from services.confessions.protection import ProtectionRepository
from services.confessions.registration import ThreadRow
from services.confessions.rows import BanRow, Erasure, MemberRow
from veil.core.errors import InvalidInputError
from veil.core.outbox import Outbox, OutgoingCall, conversation_prefix
from veil.v1 import confessions_pb2 as pb


async def register(
    repository: MembersRepository,
    community_id: int,
    telegram_user_id: int,
    subject: str,
    thread_number: int,
) -> tuple[MemberRow, ThreadRow | None]:
    """Find or create the member (and a thread's confession, when asked for)."""
    member, thread = await registration.register_member(
        repository.db, repository.seal, community_id, telegram_user_id, subject, thread_number
    )
    if member.unreachable:
        # They wrote to the bot, so they unblocked it: notices reach them again.
        # (This service owns the fact; the notifier keeps no copy of it.)
        await repository.mark_reachable(member.id)
    return member, thread


async def ban(
    protection: ProtectionRepository,
    communities: CommunitiesRepository,
    outbox: Outbox,
    cards: CardRetirement,
    community_id: int,
    member_id: int,
    *,
    until: datetime | None,
    reason: str,
    label: str,
    shadow: bool = False,
) -> BanRow:
    """Ban a member's subject and tell them, once per ban (a shadow ban: nobody).

    The member's card is retired in the ban's transaction and after it: their
    next update asks the service, which answers with the ban."""
    retired: list[str] = []

    async def retire(telegram_id: int) -> None:
        retired[:] = await cards.member_keys(community_id, telegram_id)
        await cards.retire(retired)

    row, telegram_id = await protection.ban(
        community_id,
        member_id,
        until=until,
        reason=reason,
        label=label,
        shadow=shadow,
        before_change=retire,
    )
    await cards.retire_again(retired)
    if shadow:
        return row
    community = await communities.get_community(community_id)
    await outbox.send([outgoing.ban_call(community, row, telegram_id)])
    return row


def _check_event_key(request: pb.RecordMemberActivityRequest) -> None:
    if not 1 <= len(request.event_key) <= 200:
        raise InvalidInputError("event_key must be 1..200 characters")


async def record_activity(
    repository: MembersRepository, request: pb.RecordMemberActivityRequest
) -> None:
    """Add to a member's counters, once per event key."""
    _check_event_key(request)
    await repository.record_activity(
        request.community_id,
        request.member_id,
        comments_written=request.comments_written,
        reactions_received=request.reactions_received,
        event_key=request.event_key,
    )


async def notify(
    repository: MembersRepository, outbox: Outbox, request: pb.NotifyMembersRequest
) -> int:
    """Queue notices to members by internal id (the activity counted too, when
    given); returns how many were queued. The unreachable, the opted out and the
    erased are skipped. The request's other ``calls`` (a comment's counter edit)
    are queued in the same Enqueue."""
    return await notify_many(repository, outbox, [request])


async def notify_many(
    repository: MembersRepository, outbox: Outbox, requests: Sequence[pb.NotifyMembersRequest]
) -> int:
    """:func:`notify` for several requests, their calls queued in one Enqueue. All
    are checked before anything is done (InvalidInputError)."""
    for request in requests:
        for notice in request.notices:
            _check_notice(notice)
        if request.HasField("activity"):
            _check_event_key(request.activity)
    calls: list[OutgoingCall] = []
    for request in requests:
        calls += await _notice_calls(repository, request)
    # The notices' own idempotency keys make a retried request queue nothing new;
    # the callers' other calls ride in the same request.
    await outbox.send(calls, also=[call for request in requests for call in request.calls])
    return len(calls)


async def _notice_calls(
    repository: MembersRepository, request: pb.NotifyMembersRequest
) -> list[OutgoingCall]:
    """Count the request's activity and build its notices to the members still there."""
    activity = request.activity if request.HasField("activity") else None
    if not request.notices:
        if activity is not None:
            await record_activity(repository, activity)
        return []
    # The activity counted and the recipients read in one statement.
    recipients = await notify_members.count_and_read(
        repository.db,
        repository.seal,
        activity,
        [(n.community_id, n.member_id) for n in request.notices],
    )
    calls = []
    for notice in request.notices:
        recipient = recipients.get((notice.community_id, notice.member_id))
        # A member who erased their data is no longer there to tell.
        call = outgoing.notice_call(notice, recipient) if recipient is not None else None
        if call is not None:
            calls.append(call)
    return calls


async def erase(
    repository: MembersRepository,
    outbox: Outbox,
    cards: CardRetirement,
    community_id: int,
    telegram_user_id: int,
    subject: str,
) -> tuple[Erasure, int] | None:
    """Erase the member and their confessions; their channel posts are changed as
    the community chose ("[deleted]", or deleted) and their cards withdrawn
    (the admin chat's, and the gateway's of the member and their threads).

    None when they were erased already (the queue is erased again: a retry
    after a failure in between).
    """
    retired: list[str] = []

    async def queue_channel_edits(erasure: Erasure) -> None:
        retired[:] = await cards.member_keys(community_id, telegram_user_id) + cards.thread_keys(
            community_id, (post.number for post in erasure.posts)
        )
        await cards.retire(retired)
        await outbox.send(
            outgoing.erasure_calls(community_id, erasure)
            + outgoing.withdrawal_calls(community_id, erasure)
        )
        # What the queue holds of them goes in the same transaction's time.
        await outbox.erase(
            community_id,
            [telegram_user_id],
            outgoing.erased_keys(community_id, erasure),
            # Their messages to the admins leave the admin chat.
            posted_in=erasure.admin_chat_id,
            posted_prefixes=[conversation_prefix(c) for c in erasure.conversations],
        )

    erased = await repository.erase_member(
        community_id, telegram_user_id, subject, queue_channel_edits
    )
    if erased is None:
        await outbox.erase(community_id, [telegram_user_id], [])
    await cards.retire_again(retired)
    return erased


async def set_notifications(
    repository: MembersRepository,
    cards: CardRetirement,
    community_id: int,
    telegram_user_id: int,
    enabled: bool,
) -> bool:
    """Turn the member's optional notices on or off (their card retired around
    it); returns the stored value."""
    async with cards.around(await cards.member_keys(community_id, telegram_user_id)):
        return await repository.set_notifications(community_id, telegram_user_id, enabled)


async def mark_unreachable(
    repository: MembersRepository,
    cards: CardRetirement,
    community_id: int,
    telegram_user_id: int,
) -> None:
    """The member's chat answered 403: notices skip them until they write again,
    which their next RegisterMember notices (their card is retired around it)."""
    async with cards.around(await cards.member_keys(community_id, telegram_user_id)):
        await repository.mark_unreachable(community_id, telegram_user_id)


def _check_notice(notice: pb.MemberNotice) -> None:
    """A notice names its community, member, method and idempotency key."""
    if not (notice.community_id and notice.member_id and notice.method):
        raise InvalidInputError("a notice needs community_id, member_id and method")
    if not 1 <= len(notice.idempotency_key) <= 200:
        raise InvalidInputError("a notice needs an idempotency_key of 1..200 characters")
