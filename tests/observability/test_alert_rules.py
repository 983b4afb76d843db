"""The chart's alert rules, unchanged, unit-tested by Prometheus's own ``promtool``.

Each alert gets series that should make it fire (checked while firing) and then
recover (checked after the series turn healthy), plus one window of healthy
traffic where nothing fires. The rules file is the PrometheusRule's ``groups``
as the real Helm engine renders them, so a changed expression, threshold or
``for`` is tested as shipped.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.observability.test_chart_monitoring import ALERTS
from tests.support.chart import shipped_dashboard_and_rules
from tools.devstack.debs import debian_binary

NS = 'namespace="veil"'
FIRING_AT = "25m"
RECOVERED_AT = "55m"


def _series(metric: str, values: str, **labels: str) -> dict[str, str]:
    """One promtool input series of ``metric`` in namespace veil."""
    selector = ", ".join([NS, *(f'{k}="{v}"' for k, v in labels.items())])
    return {"series": f"{metric}{{{selector}}}", "values": values}


def _histogram(metric: str, **labels: str) -> list[dict[str, str]]:
    """Every observation slow (0.1 s to 5 s) for 30 minutes, then every one fast."""
    return [
        _series(metric, "0+0x30 0+50x30", le="0.1", **labels),
        _series(metric, "0+50x60", le="5", **labels),
        _series(metric, "0+50x60", le="+Inf", **labels),
    ]


# alert -> (series that break at 0 and heal at 30m, labels the alert carries).
SCENARIOS: dict[str, tuple[list[dict[str, str]], dict[str, str]]] = {
    "VeilWebhookErrorRatio": (
        [
            _series("veil_gateway_updates_total", "0+10x30 300+0x30", outcome="error"),
            _series("veil_gateway_updates_total", "0+60x60", outcome="ok"),
        ],
        {},
    ),
    "VeilRpcErrorRatio": (
        [
            _series(
                "veil_rpc_server_handled_total",
                "0+20x30 600+0x30",
                service="social",
                code="UNAVAILABLE",
            ),
            _series("veil_rpc_server_handled_total", "0+60x60", service="social", code="OK"),
        ],
        {"service": "social"},
    ),
    "VeilWebhookLatencyP99": (_histogram("veil_gateway_update_duration_seconds_bucket"), {}),
    "VeilRpcLatencyP99": (
        _histogram("veil_rpc_server_duration_seconds_bucket", service="confessions"),
        {"service": "confessions"},
    ),
    "VeilQueueOldestMessage": (
        [_series("veil_notifier_oldest_message_age_seconds", "900x30 5x30")],
        {},
    ),
    "VeilTelegram429Rate": ([_series("veil_notifier_429_total", "0+30x30 900+0x30")], {}),
    "VeilReplicaLag": (
        [_series("veil_db_replica_lag_seconds", "60x30 0x30", component="social")],
        {"component": "social"},
    ),
    "VeilProcessDown": (
        [_series("up", "0x30 1x30", component="social", pod="social-2", job="veil")],
        {"component": "social", "pod": "social-2"},
    ),
    "VeilReplicaDown": (
        [_series("veil_db_replica_up", "0x30 1x30", component="notifier")],
        {"component": "notifier"},
    ),
}


def _rule_tests(rules: dict[str, Any]) -> list[dict[str, Any]]:
    alerts = {r["alert"]: r for g in rules["spec"]["groups"] for r in g["rules"]}
    tests: list[dict[str, Any]] = []
    for name, (series, labels) in SCENARIOS.items():
        rule = alerts[name]
        expected = {
            "exp_labels": {**rule["labels"], **labels},
            "exp_annotations": rule["annotations"],
        }
        tests.append(
            {
                "name": name,
                "interval": "1m",
                "input_series": series,
                "alert_rule_test": [
                    {"eval_time": FIRING_AT, "alertname": name, "exp_alerts": [expected]},
                    {"eval_time": RECOVERED_AT, "alertname": name, "exp_alerts": []},
                ],
            }
        )
    # Healthy traffic from the start (each series' second, healed half): nothing fires.
    healthy = [
        {"series": s["series"], "values": s["values"].split(" ")[-1]}
        for series, _ in SCENARIOS.values()
        for s in series
    ]
    tests.append(
        {
            "name": "healthy",
            "interval": "1m",
            "input_series": healthy,
            "alert_rule_test": [
                {"eval_time": "20m", "alertname": name, "exp_alerts": []} for name in SCENARIOS
            ],
        }
    )
    return tests


def test_every_shipped_alert_fires_and_resolves_under_promtool(tmp_path: Path) -> None:
    _, rules = shipped_dashboard_and_rules()
    assert set(SCENARIOS) == ALERTS, "every shipped alert needs a scenario"
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(yaml.safe_dump({"groups": rules["spec"]["groups"]}))
    tests_file = tmp_path / "tests.yaml"
    tests_file.write_text(
        yaml.safe_dump(
            {
                "rule_files": [rules_file.name],
                "evaluation_interval": "1m",
                "tests": _rule_tests(rules),
            }
        )
    )
    promtool = debian_binary("promtool", "prometheus")
    done = subprocess.run(
        [str(promtool), "test", "rules", tests_file.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout + done.stderr


def test_every_shipped_alert_has_a_runbook_line() -> None:
    """deploy/helm/README.md: a row per alert with what it means and three things to look at."""
    readme = (Path(__file__).parents[2] / "deploy" / "helm" / "README.md").read_text()
    rows = {
        line.split("`")[1]: line
        for line in readme.splitlines()
        if line.startswith("| `Veil") and line.count(" | ") >= 2
    }
    assert set(rows) == ALERTS
    for name, row in rows.items():
        looks = row.split(" | ")[2]
        assert all(f"{n}. " in looks for n in (1, 2, 3)), name
