"""The one way a service sends a Bot API call to anyone but the member it is answering.

Direct answers (the member who wrote, in the conversation) go back from the
gateway at once. Everything else (a moderation card to the admin chat, a channel
post, "your confession was approved", "someone replied to you", a comment-counter
edit) is queued in the notifier service, whose workers deliver it within
Telegram's flood limits, in order per chat, and never lose it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import TYPE_CHECKING, Any

import grpc
import orjson
from google.protobuf.timestamp_pb2 import Timestamp

from veil.core.grpc_client import create_channel, service_name
from veil.core.telemetry import inject_context
from veil.v1 import notifier_pb2, notifier_pb2_grpc

if TYPE_CHECKING:
    from veil.core.relay import Relay


class Priority(IntEnum):
    """Delivery order between queued calls of one bot (lower goes first)."""

    INTERACTIVE = notifier_pb2.PRIORITY_INTERACTIVE  # admin cards, answers owed to a person
    NOTIFICATION = notifier_pb2.PRIORITY_NOTIFICATION  # "approved", "new reply", channel posts
    BACKGROUND = notifier_pb2.PRIORITY_BACKGROUND  # counter edits and other cosmetics


@dataclass(frozen=True)
class OutgoingCall:
    """One Bot API call for a community's bot.

    ``idempotency_key`` makes a retried enqueue a no-op: derive it from the event
    (``"publish:<confession id>"``), never from a clock or a random value.
    ``collapse_key``: a newer call with the same key replaces an unsent older one
    (the latest "💬 Comments (n)" edit of a post is the only one worth sending).
    """

    community_id: int
    method: str
    chat_id: int
    params: dict[str, Any]
    idempotency_key: str
    priority: Priority = Priority.NOTIFICATION
    collapse_key: str | None = None
    not_before: datetime | None = None
    trace_context: dict[str, str] = field(default_factory=dict)
    # The idempotency key of the earlier message (same chat) this call edits:
    # the worker fills in its message_id once sent, and drops the call if never.
    edit_of: str | None = None

    def to_proto(
        self, default_trace_context: Mapping[str, str] | None = None
    ) -> notifier_pb2.OutgoingMessage:
        """The wire form of this call (``default_trace_context`` unless it has its own)."""
        message = notifier_pb2.OutgoingMessage(
            community_id=self.community_id,
            method=self.method,
            chat_id=self.chat_id,
            params_json=orjson.dumps(self.params).decode(),
            priority=notifier_pb2.Priority.ValueType(int(self.priority)),
            idempotency_key=self.idempotency_key,
            collapse_key=self.collapse_key or "",
            trace_context=self.trace_context or default_trace_context or {},
            edit_of=self.edit_of or "",
        )
        if self.not_before is not None:
            stamp = Timestamp()
            stamp.FromDatetime(self.not_before)
            message.not_before.CopyFrom(stamp)
        return message


# A channel post of a confession is queued under this key, and the notifier
# worker reports the message id Telegram gave it back to the confessions
# service (``RecordPublication``) after sending it: that is how the post's id
# gets stored without the confessions service waiting for the send.
_PUBLICATION = "publish:"


def publication_key(community_id: int, confession_id: int) -> str:
    """The idempotency key of confession ``confession_id``'s channel post."""
    return f"{_PUBLICATION}{community_id}:{confession_id}"


def parse_publication_key(key: str) -> tuple[int, int] | None:
    """(community id, confession id) of a channel post's key; None for any other key."""
    if not key.startswith(_PUBLICATION):
        return None
    community, _, confession = key.removeprefix(_PUBLICATION).partition(":")
    if not community.isdigit() or not confession.isdigit():
        return None
    return int(community), int(confession)


# A confession's card in the admin chat is queued under this key. Its later
# edits (a decision taken in the Mini App, the author's withdrawal) name it in
# ``edit_of``: the notifier's record of the sent card holds its message id.
_CARD = "card:"


def conversation_key(conversation_id: int, message_key: str) -> str:
    """The idempotency key of a member's message posted to the admins in a conversation."""
    return f"{conversation_prefix(conversation_id)}{message_key}"


def conversation_prefix(conversation_id: int) -> str:
    """What the keys of a conversation's messages to the admins start with."""
    return f"conv:{conversation_id}:"


def card_key(confession_id: int) -> str:
    """The idempotency key of confession ``confession_id``'s card in the admin chat."""
    return f"{_CARD}{confession_id}"


def parse_card_key(key: str) -> int | None:
    """The confession id of a card's key; None for any other key."""
    if not key.startswith(_CARD):
        return None
    confession = key.removeprefix(_CARD)
    return int(confession) if confession.isdigit() else None


def channel_post_key(community_id: int, confession_id: int) -> str:
    """Collapse key of every change to one confession's channel post.

    The comment counter's edits and the erasure's edit share it: the newest
    change replaces one still waiting, so an erased post is never edited back.
    """
    return f"post:{community_id}:{confession_id}"


class Outbox:
    """Queues :class:`OutgoingCall` s in the notifier service."""

    def __init__(self, stub: notifier_pb2_grpc.NotifierServiceStub) -> None:
        self._stub = stub

    @classmethod
    def connect(cls, target: str) -> tuple[Outbox, grpc.aio.Channel]:
        """An outbox talking to the notifier at ``target``, and its channel (close it)."""
        channel = create_channel(target, [service_name(notifier_pb2.DESCRIPTOR, "NotifierService")])
        return cls(notifier_pb2_grpc.NotifierServiceStub(channel)), channel

    async def send(
        self,
        calls: Sequence[OutgoingCall],
        also: Sequence[notifier_pb2.OutgoingMessage] = (),
    ) -> list[int]:
        """Queue ``calls`` in one request; returns their queue ids (existing ones for repeats).

        Each call carries the current trace context (unless it has its own): the
        worker's send span links back to the trace that queued it. ``also``:
        calls already in their wire form (another service's, relayed so that
        both ride in one request), queued after ``calls``.
        """
        if not calls and not also:
            return []
        queued_by = inject_context()
        response = await self._stub.Enqueue(
            notifier_pb2.EnqueueRequest(
                messages=[*(call.to_proto(queued_by) for call in calls), *also]
            )
        )
        return list(response.ids)

    async def send_wire(self, payloads: list[bytes]) -> None:
        """Queue calls already serialized (``OutgoingMessage``), in one request: a
        :class:`veil.core.relay.Relay`'s batch."""
        await self._stub.Enqueue(
            notifier_pb2.EnqueueRequest(
                messages=[notifier_pb2.OutgoingMessage.FromString(p) for p in payloads]
            )
        )

    async def erase(
        self,
        community_id: int,
        chat_ids: Sequence[int],
        idempotency_keys: Sequence[str],
        *,
        posted_in: int = 0,
        posted_prefixes: Sequence[str] = (),
    ) -> None:
        """Erase a member's traces in the queue (see NotifierService.Erase); the
        messages posted in chat ``posted_in`` under ``posted_prefixes`` are
        deleted from it."""
        posted = (
            notifier_pb2.PostedByMember(chat_id=posted_in, key_prefixes=list(posted_prefixes))
            if posted_prefixes
            else None
        )
        await self._stub.Erase(
            notifier_pb2.EraseRequest(
                community_id=community_id,
                chat_ids=list(chat_ids),
                idempotency_keys=list(idempotency_keys),
                posted=posted,
            )
        )


class RelayedOutbox:
    """Queues calls in the notifier through the caller's own relay table.

    :meth:`send` is one INSERT where :meth:`Outbox.send` is an RPC: the relay
    sends the calls of many requests in one ``Enqueue`` a moment later
    (:mod:`veil.core.relay`). For calls nobody waits on (a card to the admins).
    """

    def __init__(self, relay: Relay) -> None:
        self._relay = relay

    async def send(self, calls: Sequence[OutgoingCall]) -> None:
        """Write ``calls`` (with the current trace context) for the relay."""
        queued_by = inject_context()
        messages = [call.to_proto(queued_by) for call in calls]
        await self._relay.add(
            [m.idempotency_key for m in messages], [m.SerializeToString() for m in messages]
        )
