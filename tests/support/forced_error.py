"""A database error forced with member text, for the anonymity scans.

Postgres stores no NUL character in text. The gateway removes NULs from every
update, so the statement that fails is sent straight to the confessions
service, as a gateway with a bug would send it; the same text then goes
through the gateway too. Both must leave no trace of the text in a log line, a
span or a status detail, and the member is answered as usual.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from tests.support.world import World, buttons
from veil.v1 import common_pb2, confessions_pb2, confessions_pb2_grpc

# Distinctive, so that a leak is found by a plain substring search.
FORCED_TEXT = "Forced failure: my landlord is a marmoset"
# What SQLAlchemy appends to a failed statement's message unless parameters are hidden.
PARAMETERS_MARK = "[parameters:"


@dataclass(frozen=True)
class ForcedError:
    """What the forced failure answered."""

    # The status detail the caller got from the service.
    details: str
    # The member's confession that went through the gateway, NULs removed.
    gateway_answer: str


async def force_database_error(community: World.Community) -> ForcedError:
    """A confession with a NUL character: once straight to the service (a database
    error), once through the gateway (the NUL is removed, the member is answered)."""
    stack = community.world.stack
    member = community.member(first_name="Marmoset")
    await member.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.ports.confessions}") as channel:
        confessions = confessions_pb2_grpc.ConfessionsServiceStub(channel)
        try:
            await confessions.SubmitConfession(
                confessions_pb2.SubmitConfessionRequest(
                    actor=common_pb2.Actor(
                        community_id=community.id, telegram_user_id=member.user_id
                    ),
                    text=f"{FORCED_TEXT}\x00!",
                    idempotency_key="forced-nul-1",
                )
            )
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.INTERNAL, error
            details = error.details() or ""
        else:
            raise AssertionError("Postgres stored a NUL character")

    await member.send("✍️ New confession")
    answer = await member.send(f"{FORCED_TEXT}\x00 too")
    assert answer["status"] == 200
    preview = await member.last()
    assert f"{FORCED_TEXT} too" in preview["text"], preview
    sent = await member.press(preview["message_id"], buttons(preview)["✅ Send"])
    assert sent["status"] == 200
    return ForcedError(details, (await member.last())["text"])
