"""Domain errors become their gRPC status in the server's interceptors: a servicer
method raises, no decorator needed, and a new RPC cannot forget the mapping."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from prometheus_client import CollectorRegistry

from veil.core.errors import InvalidInputError, MemberRefusal, NotFoundError, RefusedError
from veil.core.grpc_errors import INTERNAL_DETAIL, member_refusal
from veil.core.grpc_server import interceptors
from veil.v1 import confessions_pb2, confessions_pb2_grpc

# community_id → what the servicer raises.
RAISED: dict[int, Exception] = {
    1: NotFoundError("no such thing"),
    2: InvalidInputError("limit must be 0..200"),
    3: RefusedError("names more than one member"),
    4: MemberRefusal("Please wait about 5 minutes before your next confession."),
    5: MemberRefusal("Your confession is 5000 characters; at most 4000.", fixable=True),
    6: RuntimeError("a statement quoting what a member wrote"),
}


class Raising(confessions_pb2_grpc.CommunitiesServiceServicer):
    """A servicer without any error handling of its own."""

    async def GetCommunityRules(
        self, request: confessions_pb2.GetCommunityRulesRequest, context: grpc.aio.ServicerContext
    ) -> confessions_pb2.CommunityRules:
        raise RAISED[request.community_id]


@pytest.fixture(scope="module")
async def stub() -> AsyncIterator[confessions_pb2_grpc.CommunitiesServiceStub]:
    """A real server on a local port, with the interceptors every Veil server has."""
    server = grpc.aio.server(interceptors=interceptors(CollectorRegistry()))
    # Only GetCommunityRules is called; the other RPCs stay unimplemented.
    servicer = Raising()  # type: ignore[abstract]
    confessions_pb2_grpc.add_CommunitiesServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield confessions_pb2_grpc.CommunitiesServiceStub(channel)
    await server.stop(None)


async def _failure(
    stub: confessions_pb2_grpc.CommunitiesServiceStub, case: int
) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.GetCommunityRules(confessions_pb2.GetCommunityRulesRequest(community_id=case))
    return raised.value


@pytest.mark.parametrize(
    ("case", "code"),
    [
        (1, grpc.StatusCode.NOT_FOUND),
        (2, grpc.StatusCode.INVALID_ARGUMENT),
        (3, grpc.StatusCode.FAILED_PRECONDITION),
    ],
)
async def test_a_domain_error_gets_its_status_without_a_decorator(
    stub: confessions_pb2_grpc.CommunitiesServiceStub, case: int, code: grpc.StatusCode
) -> None:
    error = await _failure(stub, case)
    assert error.code() == code
    assert error.details() == str(RAISED[case])
    # Not a member's text: a caller facing a member shows a generic one.
    assert member_refusal(error) is None


@pytest.mark.parametrize(
    ("case", "code"),
    [(4, grpc.StatusCode.FAILED_PRECONDITION), (5, grpc.StatusCode.INVALID_ARGUMENT)],
)
async def test_a_member_refusal_is_marked_as_the_members_text(
    stub: confessions_pb2_grpc.CommunitiesServiceStub, case: int, code: grpc.StatusCode
) -> None:
    error = await _failure(stub, case)
    assert error.code() == code
    assert member_refusal(error) == str(RAISED[case])


async def test_any_other_error_is_internal_without_its_text(
    stub: confessions_pb2_grpc.CommunitiesServiceStub,
) -> None:
    error = await _failure(stub, 6)
    assert error.code() == grpc.StatusCode.INTERNAL
    assert error.details() == INTERNAL_DETAIL
    assert member_refusal(error) is None
