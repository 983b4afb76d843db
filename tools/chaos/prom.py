"""A real Prometheus during a chaos run, with the chart's own alert rules.

Debian's ``prometheus`` binary (unpacked by :func:`debian_binary`, never a
system service) listens on 127.0.0.1 with its data under the run's folder. It
scrapes every Veil process's /metrics with the labels the chart's PodMonitor
sets (``namespace``, ``component``, ``pod``) and evaluates the groups of the
chart's PrometheusRule exactly as Helm renders them. :class:`AlertWatch` polls
``/api/v1/alerts`` and keeps, per alert, when it fired and when it resolved.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tools.chaos.topology import Instance
from tools.devstack.debs import debian_binary
from tools.devstack.stack import die_with_parent

NAMESPACE = "veil"


def rule_groups() -> dict[str, Any]:
    """The chart's PrometheusRule ``groups``, rendered by the real Helm engine."""
    from tests.observability.test_chart_monitoring import shipped_dashboard_and_rules

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
        self.root.mkdir(parents=True, exist_ok=True)
        rules = self.root / "rules.yml"
        rules.write_text(yaml.safe_dump(rule_groups(), sort_keys=False))
        config = self.root / "prometheus.yml"
        config.write_text(yaml.safe_dump(render_config(self.instances, rules, self.interval)))
        binary = debian_binary("prometheus", "prometheus")
        with (self.root / "prometheus.log").open("ab") as log:
            self.process = subprocess.Popen(
                [
                    str(binary),
                    f"--config.file={config}",
                    f"--storage.tsdb.path={self.root / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # A run that is killed takes its nginx/Prometheus along.
                preexec_fn=die_with_parent,
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


@dataclass
class AlertWatch:
    """Polls Prometheus's alerts in a thread and records their timeline."""

    prometheus: Prometheus
    every: float = 2.0
    seen: dict[tuple[str, str], Seen] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> threading.Thread:
        """Start polling."""
        thread = threading.Thread(target=self._loop, daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        """Stop polling."""
        self._stop.set()

    def observe(self, alerts: list[dict[str, Any]], now: float) -> None:
        """Record one poll: new alerts, state changes, and alerts gone (resolved)."""
        active = set()
        for alert in alerts:
            labels = alert["labels"]
            extra = ",".join(
                f"{k}={v}" for k, v in sorted(labels.items()) if k not in ("alertname", "severity")
            )
            key = (labels["alertname"], extra)
            active.add(key)
            entry = self.seen.setdefault(key, Seen(*key))
            entry.resolved_at = None
            if entry.pending_at is None:
                entry.pending_at = now
            if alert["state"] == "firing" and entry.fired_at is None:
                entry.fired_at = now
        for key, entry in self.seen.items():
            if key not in active and entry.resolved_at is None:
                entry.resolved_at = now

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.observe(self.prometheus.alerts(), time.time())
            except (urllib.error.URLError, OSError, ValueError):
                continue


def _ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False
