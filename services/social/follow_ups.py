"""What follows a comment or a reaction in the confessions service, through the relay.

A comment's notices, counter edit and "comments written", and a reaction's
"reactions received", are one ``NotifyMembersRequest`` each. They used to be a
call each (NotifyMembers, RecordMemberActivity); now each is a row of this
service's relay table (veil/core/relay.py), written right after the comment or
the reaction, and the relay sends many of them in one ``NotifyMembersMany``,
whose calls then reach the notifier in one ``Enqueue``. Nothing in them waits
for an answer: the member who commented or reacted already has theirs.
"""

from __future__ import annotations

from veil.core.relay import Relay, Send
from veil.v1 import confessions_pb2, confessions_pb2_grpc


class FollowUps:
    """Writes follow-ups for the relay."""

    def __init__(self, relay: Relay) -> None:
        self._relay = relay

    async def send(self, key: str, request: confessions_pb2.NotifyMembersRequest) -> None:
        """Write one follow-up under ``key`` (the event it follows, e.g. ``comment:7``)."""
        await self._relay.add([key], [request.SerializeToString()])


def to_members(members: confessions_pb2_grpc.MembersServiceStub) -> Send:
    """The relay's send: a batch of follow-ups in one ``NotifyMembersMany``."""

    async def send(payloads: list[bytes]) -> None:
        await members.NotifyMembersMany(
            confessions_pb2.NotifyMembersManyRequest(
                requests=[confessions_pb2.NotifyMembersRequest.FromString(p) for p in payloads]
            )
        )

    return send
