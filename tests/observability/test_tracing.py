"""One Telegram update is one trace, from the webhook to the database and back to Telegram.

Every process of the suite's stack exports to the OTLP receiver in the test
process (tests/conftest.py); these tests read what it received.
"""

from __future__ import annotations

from typing import Any

from tests.observability.conftest import Observed
from tests.support.otlp import Receiver, Span, ancestors, wait_for
from tests.support.world import World


def _server_span_of(receiver: Receiver, update_id: int, community_id: int) -> Span | None:
    return next(
        (
            s
            for s in receiver.spans()
            if s.service == "veil-gateway"
            and s.kind == "server"
            and s.attributes.get("veil.update_id") == update_id
            and s.attributes.get("veil.community_id") == community_id
            # Not Telegram's redelivery of it, which is dropped as a duplicate.
            and s.attributes.get("veil.outcome") != "duplicate"
        ),
        None,
    )


def _complete(spans: list[Span], services: set[str]) -> bool:
    """Every process that took part has exported (the gateway's span ends last)."""
    return {s.service for s in spans} >= services and any(
        "telegram.method" in s.attributes for s in spans
    )


async def _trace_of(
    receiver: Receiver, update: dict[str, Any], community: World.Community, services: set[str]
) -> tuple[Span, list[Span]]:
    root: Span = await wait_for(
        "the gateway's server span",
        lambda: _server_span_of(receiver, update["update_id"], community.id),
    )
    spans: list[Span] = await wait_for(
        "the whole trace",
        lambda: (t := receiver.trace(root.trace_id)) and _complete(t, services) and t,
        describe=lambda: sorted((s.service, s.kind, s.name) for s in receiver.trace(root.trace_id)),
    )
    return root, spans


async def test_one_update_is_one_trace_through_every_hop(
    observed: Observed, otlp_receiver: Receiver
) -> None:
    community = observed.community
    member = community.member()
    update = await member.start()
    assert update["status"] == 200
    root, spans = await _trace_of(
        otlp_receiver, update, community, {"veil-gateway", "veil-confessions"}
    )
    by_id = {s.span_id: s for s in spans}

    # The webhook's server span is the root: Telegram sends no trace context.
    assert root.parent_id == ""
    assert root.name == "POST /webhook/{community_id}"
    assert root.attributes["veil.update_type"] == "message"
    assert root.attributes["veil.handler"] == "start.start"
    assert root.attributes["veil.outcome"] == "ok"
    assert _status(root) == 200
    assert root.resource["service.version"] and root.resource["service.namespace"] == "veil"

    # gateway → confessions: the client span under the webhook, the server span under it.
    client = next(
        s
        for s in spans
        if s.service == "veil-gateway"
        and s.kind == "client"
        and s.attributes.get("rpc.method") == "RegisterMember"
    )
    assert root in ancestors(client, by_id)
    server = next(
        s for s in spans if s.service == "veil-confessions" and s.parent_id == client.span_id
    )
    assert server.kind == "server"
    assert server.attributes["rpc.service"] == "veil.v1.MembersService"
    assert server.attributes["veil.community_id"] == community.id

    # The confessions service's SQL, inside its RPC.
    queries = [s for s in spans if s.attributes.get("db.system") == "postgresql"]
    assert queries
    assert all(s.service == "veil-confessions" for s in queries)
    assert all(server in ancestors(s, by_id) for s in queries)

    # Redis (the update_id claim) and the Bot API answer, from the gateway.
    assert any(
        s.attributes.get("db.system") == "redis" and root in ancestors(s, by_id) for s in spans
    )
    # The welcome is the update's only call: it rides in the webhook's 200.
    answer = next(s for s in spans if s.attributes.get("telegram.method") == "sendMessage")
    assert answer.kind == "producer" and answer.service == "veil-gateway"
    assert answer.name == "webhook answer sendMessage"
    assert answer.attributes["veil.answer"] == "webhook response"
    assert root in ancestors(answer, by_id)

    # Nothing of this trace is parented outside it.
    assert all(s.parent_id == "" or s.parent_id in by_id for s in spans)


async def test_a_notification_send_links_back_to_the_update_that_caused_it(
    observed: Observed, otlp_receiver: Receiver
) -> None:
    community, load = observed.community, observed.load
    root, _ = await _trace_of(
        otlp_receiver,
        load.hiding_report,
        community,
        {"veil-gateway", "veil-social", "veil-notifier"},
    )

    # The worker sends the admins' card in a trace of its own, which links to
    # the span that queued it, in the update's trace.
    deliveries: list[Span] = await wait_for(
        "the worker's delivery span",
        lambda: [
            s
            for s in otlp_receiver.spans()
            if s.service == "veil-notifier-worker"
            and s.kind == "consumer"
            and any(link[0] == root.trace_id for link in s.links)
        ],
    )
    delivery = deliveries[0]
    assert delivery.trace_id != root.trace_id and delivery.parent_id == ""
    assert delivery.name == "deliver sendMessage"
    assert delivery.attributes["veil.community_id"] == community.id
    assert delivery.attributes["veil.outcome"] == "sent"
    queued_by = next(
        s for s in otlp_receiver.trace(root.trace_id) if s.span_id == delivery.links[0][1]
    )
    assert queued_by.service == "veil-social" and queued_by.kind == "server"
    assert queued_by.name == "/veil.v1.SocialService/ReportComment"

    # The Bot API call is a child of the delivery span.
    sent: list[Span] = await wait_for(
        "the worker's Bot API call",
        lambda: [
            s
            for s in otlp_receiver.trace(delivery.trace_id)
            if s.kind == "client"
            and s.parent_id == delivery.span_id
            and s.attributes.get("telegram.method") == "sendMessage"
        ],
    )
    assert _status(sent[0]) == 200


def _status(span: Span) -> Any:
    return span.attributes.get("http.response.status_code", span.attributes.get("http.status_code"))
