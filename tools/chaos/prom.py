"""A real Prometheus during a chaos run, with the chart's own alert rules.

Debian's ``prometheus`` binary (unpacked by :func:`debian_binary`, never a
system service) listens on 127.0.0.1 with its data under the run's folder. It
scrapes every Veil process's /metrics with the labels the chart's PodMonitor
sets (``namespace``, ``component``, ``pod``) and evaluates the groups of the
chart's PrometheusRule exactly as Helm renders them. After the run,
:func:`alert_history` reads the ``ALERTS`` series back from its TSDB: per alert
episode, when it went pending, fired and resolved.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tools.chaos.topology import Instance
from tools.devstack.debs import debian_binary
from tools.devstack.stack import dying_with_parent

NAMESPACE = "veil"


def rule_groups() -> dict[str, Any]:
    """The chart's PrometheusRule ``groups``, rendered by the real Helm engine."""
    from tests.support.chart import shipped_dashboard_and_rules

    _, rule = shipped_dashboard_and_rules()
    return {"groups": rule["spec"]["groups"]}


def render_config(instances: list[Instance], rules: Path, interval: float) -> dict[str, Any]:
    """prometheus.yml: one static target per instance, labelled like the PodMonitor does."""
    return {
        "global": {"scrape_interval": f"{interval:g}s", "evaluation_interval": f"{interval:g}s"},
        "rule_files": [str(rules)],
        "scrape_configs": [
            {
                "job_name": "veil",
                "static_configs": [
                    {
                        "targets": [f"127.0.0.1:{i.metrics}"],
                        "labels": {"namespace": NAMESPACE, "component": i.kind, "pod": i.label},
                    }
                    for i in instances
                ],
            }
        ],
    }


class Prometheus:
    """One Prometheus server under ``root``."""

    def __init__(self, root: Path, port: int, instances: list[Instance], interval: float = 5.0):
        self.root = root
        self.port = port
        self.instances = instances
        self.interval = interval
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The HTTP API's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        """Write rules and config, start Prometheus, wait until it is ready."""
        # A fresh TSDB: an earlier run's series (and their 5-minute lookback)
        # would otherwise show up in this run's alert history.
        shutil.rmtree(self.root / "data", ignore_errors=True)
        self.root.mkdir(parents=True, exist_ok=True)
        rules = self.root / "rules.yml"
        rules.write_text(yaml.safe_dump(rule_groups(), sort_keys=False))
        config = self.root / "prometheus.yml"
        config.write_text(yaml.safe_dump(render_config(self.instances, rules, self.interval)))
        binary = debian_binary("prometheus", "prometheus")
        with (self.root / "prometheus.log").open("ab") as log:
            # A run that is killed takes its Prometheus along.
            self.process = subprocess.Popen(
                dying_with_parent(
                    [
                        str(binary),
                        f"--config.file={config}",
                        f"--storage.tsdb.path={self.root / 'data'}",
                        f"--web.listen-address=127.0.0.1:{self.port}",
                    ]
                ),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while not _ok(f"{self.url}/-/ready"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"prometheus did not start; see {self.root}/prometheus.log")
            time.sleep(0.2)

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query's result vector."""
        url = f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(url, timeout=10) as answer:
            return list(json.loads(answer.read())["data"]["result"])

    def alerts(self) -> list[dict[str, Any]]:
        """Alerts pending or firing now."""
        with urllib.request.urlopen(f"{self.url}/api/v1/alerts", timeout=10) as answer:
            return list(json.loads(answer.read())["data"]["alerts"])

    def stop(self) -> None:
        """Stop Prometheus."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None


@dataclass
class Seen:
    """One alert (name and labels) over the run: first pending, fired, resolved."""

    name: str
    labels: str
    pending_at: float | None = None
    fired_at: float | None = None
    resolved_at: float | None = None


def episodes(series: list[dict[str, Any]], step: float) -> list[Seen]:
    """Alert episodes from a range query of ``ALERTS`` (one series per alert and state).

    An episode is a run of samples no more than ``step`` apart; it fired when
    a ``firing`` sample falls inside it, and resolved one step after its last.
    """
    samples: dict[tuple[str, str], list[tuple[float, str]]] = {}
    for entry in series:
        labels = entry["metric"]
        extra = ",".join(
            f"{k}={v}"
            for k, v in sorted(labels.items())
            if k not in ("__name__", "alertname", "alertstate", "severity")
        )
        key = (labels["alertname"], extra)
        samples.setdefault(key, []).extend(
            (float(t), labels["alertstate"]) for t, _ in entry["values"]
        )
    result: list[Seen] = []
    for (name, extra), points in sorted(samples.items()):
        current: Seen | None = None
        last = 0.0
        for moment, state in sorted(points):
            if current is None or moment - last > step * 1.5:
                if current is not None:
                    current.resolved_at = last + step
                current = Seen(name, extra, pending_at=moment)
                result.append(current)
            if state == "firing" and current.fired_at is None:
                current.fired_at = moment
            last = moment
        if current is not None:
            current.resolved_at = last + step
    return result


def alert_history(prometheus: Prometheus, start: float, end: float) -> list[Seen]:
    """Every alert episode Prometheus recorded between ``start`` and ``end``."""
    query = urllib.parse.urlencode(
        {"query": "ALERTS", "start": start, "end": end, "step": prometheus.interval}
    )
    url = f"{prometheus.url}/api/v1/query_range?{query}"
    with urllib.request.urlopen(url, timeout=30) as answer:
        result = json.loads(answer.read())["data"]["result"]
    return episodes(list(result), prometheus.interval)


def _ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False
