"""Every process serves Prometheus metrics; the chart's dashboard and alerts query only those.

A small load (members starting the bot, a confession, a duplicate delivery, a
comment that notifies its author) goes through the real stack; then each
process's ``/metrics`` is scraped and parsed with prometheus_client's parser.
"""

from __future__ import annotations

import aiohttp

from tests.observability.conftest import Observed
from tests.support.chart import shipped_dashboard_and_rules
from tests.support.metrics import PROCESSES, SERIES, exported_series, samples, scrape, total
from tests.support.otlp import wait_for
from tools.devstack.stack import Stack


async def test_every_process_serves_red_metrics_after_a_small_load(
    observed: Observed, stack: Stack, http: aiohttp.ClientSession
) -> None:
    community = observed.community
    gateway = await scrape(http, stack, "gateway")
    assert total(gateway, "veil_gateway_updates_total", update_type="message", outcome="ok") > 0
    assert total(gateway, "veil_gateway_updates_total", handler="start.start") > 0
    assert total(gateway, "veil_gateway_updates_total", update_type="callback_query") > 0
    assert total(gateway, "veil_gateway_updates_total", outcome="duplicate") > 0
    assert total(gateway, "veil_gateway_update_duration_seconds_count", handler="start.start") > 0
    assert total(gateway, "veil_gateway_dedupe_hits_total", state="done") > 0
    # Calls the gateway made itself, by Telegram's answer code, and the last
    # call of an update, carried in the webhook's 200.
    assert total(gateway, "veil_gateway_bot_api_calls_total", code="200") > 0
    assert (
        total(
            gateway, "veil_gateway_bot_api_calls_total", method="sendMessage", code="webhook answer"
        )
        > 0
    )

    # RED per RPC in each gRPC service, and the replica's lag as each one sees it.
    for name, method in (
        ("confessions", "RegisterMember"),
        ("social", "AddComment"),
        ("notifier", "Enqueue"),
    ):
        page = await scrape(http, stack, name)
        assert total(page, "veil_rpc_server_handled_total", method=method, code="OK") > 0, name
        assert total(page, "veil_rpc_server_duration_seconds_count", method=method) > 0, name
        # The lag probe runs at start: the gauges exist from the first scrape on.
        assert total(page, "veil_db_replica_up") == 1, name
        assert ("veil_db_replica_lag_seconds", {}) in [(n, lb) for n, lb, _ in samples(page)]

    # The worker sends the notification: send rate, queue gauges, its replica view.
    async def worker_sent() -> str | None:
        page = await scrape(http, stack, "notifier-worker")
        sent = total(page, "veil_notifier_sent_total", community=str(community.id))
        return page if sent > 0 else None

    worker: str = await wait_for("the worker's send", worker_sent)
    assert total(worker, "veil_notifier_send_seconds_count") > 0
    assert total(worker, "veil_db_replica_up") == 1


async def test_the_dashboard_and_alerts_query_only_exported_metrics(
    stack: Stack, http: aiohttp.ClientSession
) -> None:
    dashboard, rules = shipped_dashboard_and_rules()
    titles = {panel["title"] for panel in dashboard["panels"]}
    assert {"Webhook updates/s by handler", "RPC errors/s", "Queue depth", "Replica lag"} <= titles
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    exprs += [rule["expr"] for group in rules["spec"]["groups"] for rule in group["rules"]]
    queried = {name for expr in exprs for name in SERIES.findall(expr)}
    assert len(queried) > 10
    exported = exported_series([await scrape(http, stack, name) for name in PROCESSES])
    assert queried <= exported, sorted(queried - exported)
