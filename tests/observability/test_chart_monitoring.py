"""The chart ships a Grafana dashboard, a PodMonitor and PrometheusRule alerts.

Rendered by the real Helm engine (tests/support/chart.py). The Prometheus Operator's
objects appear when the cluster has monitoring.coreos.com/v1 (which an offline
render cannot show) or when the values enable them.
"""

from __future__ import annotations

import json

from tests.support.chart import (
    OPERATOR_ON,
    REQUIRED,
    by_name,
    merge,
    objects,
    of_kind,
    shipped_dashboard_and_rules,
)

ALERTS = {
    "VeilWebhookErrorRatio",
    "VeilRpcErrorRatio",
    "VeilWebhookLatencyP99",
    "VeilRpcLatencyP99",
    "VeilQueueOldestMessage",
    "VeilTelegram429Rate",
    "VeilReplicaLag",
    "VeilReplicaDown",
    "VeilProcessDown",
}


def test_the_dashboard_configmap_is_labelled_for_grafana_and_parses() -> None:
    objs = objects(REQUIRED)
    configmap = by_name(objs, "ConfigMap", "veil-dashboards")
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    dashboard = json.loads(configmap["data"]["veil.json"])
    assert dashboard["uid"] == "veil-overview"
    assert all(t["expr"] for p in dashboard["panels"] for t in p.get("targets", []))
    # Without the operator's API (an offline render) and without values, no CRD objects.
    assert not [o for o in objs if o["apiVersion"].startswith("monitoring.coreos.com/")]


def test_alerts_and_pod_monitor_render_when_enabled() -> None:
    objs = objects(merge(REQUIRED, OPERATOR_ON))
    monitor = by_name(objs, "PodMonitor", "veil")
    endpoint = monitor["spec"]["podMetricsEndpoints"][0]
    assert endpoint["port"] == "metrics"
    assert {r["targetLabel"] for r in endpoint["relabelings"]} == {"component", "namespace", "pod"}
    _, rules = shipped_dashboard_and_rules()
    alerts = {r["alert"]: r for g in rules["spec"]["groups"] for r in g["rules"]}
    assert set(alerts) == ALERTS
    assert alerts["VeilReplicaLag"]["expr"].endswith("> 10")
    assert 'namespace="veil"' in alerts["VeilQueueOldestMessage"]["expr"]
    # Thresholds are values.
    tuned = objects(
        merge(
            REQUIRED,
            merge(
                OPERATOR_ON,
                {"monitoring": {"prometheusRule": {"thresholds": {"replicaLagSeconds": 30}}}},
            ),
        )
    )
    rule = next(
        r
        for o in of_kind(tuned, "PrometheusRule")
        for g in o["spec"]["groups"]
        for r in g["rules"]
        if r["alert"] == "VeilReplicaLag"
    )
    assert rule["expr"].endswith("> 30")


def test_monitoring_objects_can_be_turned_off() -> None:
    objs = objects(
        merge(
            REQUIRED,
            {
                "monitoring": {
                    "dashboards": {"enabled": False},
                    "podMonitor": {"enabled": False},
                    "prometheusRule": {"enabled": False},
                }
            },
        )
    )
    assert not [o for o in of_kind(objs, "ConfigMap") if o["metadata"]["name"] == "veil-dashboards"]
    assert not [o for o in objs if o["apiVersion"].startswith("monitoring.coreos.com/")]
