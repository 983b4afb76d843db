"""Spans, metric labels and logs of an end-to-end run carry no member's identity or text.

Members with a distinctive name confess, comment and report through the real
stack; then every span the OTLP receiver got, every /metrics page and every
log line is searched for their Telegram ids, their name, what they wrote and
the bot's token.
"""

from __future__ import annotations

import json

import aiohttp

from tests.observability.conftest import Observed
from tests.observability.load import COMMENT_TEXT, CONFESSION_TEXT, MEMBER_NAME
from tests.support.forced_error import FORCED_TEXT, PARAMETERS_MARK, force_database_error
from tests.support.metrics import PROCESSES, scrape
from tests.support.otlp import Receiver, wait_for
from tools.devstack.stack import Stack


async def test_no_telegram_id_name_text_or_token_in_spans_metrics_or_logs(
    observed: Observed, stack: Stack, otlp_receiver: Receiver, http: aiohttp.ClientSession
) -> None:
    """A load through every service, then its spans, metrics and logs searched for member data.

    One test because the search covers that whole run.
    """
    community, load = observed.community, observed.load
    # Everything the run did is exported once the admins' card has been sent
    # (the worker's delivery is the last thing the load causes).
    await wait_for(
        "the worker's delivery of the admins' card",
        lambda: any(
            s.service == "veil-notifier-worker"
            and s.attributes.get("veil.community_id") == community.id
            and s.attributes.get("veil.outcome") == "sent"
            for s in otlp_receiver.spans()
        ),
    )
    # A failed statement whose values are member text: recorded on spans (the
    # failed query's, the RPC's) without the text.
    forced = await force_database_error(community)
    assert forced.details == "internal error"
    await wait_for(
        "the failed RPC's server span",
        lambda: any(
            s.service == "veil-confessions"
            and s.name.endswith("SubmitConfession")
            and s.attributes.get("rpc.grpc.status_code") == 13
            for s in otlp_receiver.spans()
        ),
    )
    assert any(name == "exception" for s in otlp_receiver.spans() for name, _ in s.events), (
        "no span recorded the database error"
    )
    secrets = {
        FORCED_TEXT,
        PARAMETERS_MARK,
        MEMBER_NAME,
        CONFESSION_TEXT,
        COMMENT_TEXT,
        community.token,
        community.token.split(":")[1],
        *(str(m.user_id) for m in load.members),
        # …and every member any test of this run created.
        *(str(user_id) for user_id in community.world.user_ids),
    }

    spans = otlp_receiver.spans()
    mine = [s for s in spans if s.attributes.get("veil.community_id") == community.id]
    assert len(mine) > 10  # the load was traced
    for span in spans:
        text = span.text()
        assert not [s for s in secrets if s in text], (span.service, span.name)

    for name in PROCESSES:
        page = await scrape(http, stack, name)
        assert str(community.id) in page or name != "notifier-worker"
        assert not [s for s in secrets if s in page], name

    trace_ids = {s.trace_id for s in spans}
    correlated = 0
    for name in PROCESSES:
        for line in stack.log_path(name).read_text(errors="replace").splitlines():
            assert not [s for s in secrets if s in line], (name, line)
            if line.startswith("{"):
                record = json.loads(line)
                correlated += record.get("trace_id") in trace_ids
    # Log lines written inside a span lead to its trace (the duplicate's, at least).
    duplicate = [
        json.loads(line)
        for line in stack.log_path("gateway").read_text().splitlines()
        if "duplicate update dropped" in line
    ]
    assert duplicate and all(
        len(d["trace_id"]) == 32 and len(d["span_id"]) == 16 for d in duplicate
    )
    assert correlated >= 1
