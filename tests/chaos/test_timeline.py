"""make chaos's timelines: fault windows for k6, alerts seen firing and resolving."""

from __future__ import annotations

from pathlib import Path

from tools.chaos.prom import Seen, episodes, render_config
from tools.chaos.report import fault_lines, silent, windows
from tools.chaos.script import Fault, Struck
from tools.chaos.topology import Instance


def _nothing(stack: object) -> None:
    return None


def test_windows_cover_the_run_during_and_after_each_fault() -> None:
    script = [Fault("b", 60, _nothing), Fault("a", 20, _nothing), Fault("c", 70, _nothing)]
    assert windows(script, 120) == [
        ("baseline", 0.0, 20),
        ("f0-during", 20, 40),
        ("f0-after", 40, 60),
        ("f1-during", 60, 70),
        ("f2-during", 70, 90),
        ("f2-after", 90, 120 + 3600),
    ]


def test_prometheus_scrapes_every_instance_labelled_like_the_pod_monitor(tmp_path: Path) -> None:
    instances = [Instance("gateway", "gateway", 1, 2), Instance("social-2", "social", 3, 4)]
    config = render_config(instances, tmp_path / "rules.yml", 5)
    targets = config["scrape_configs"][0]["static_configs"]
    assert [t["targets"] for t in targets] == [["127.0.0.1:2"], ["127.0.0.1:4"]]
    assert targets[1]["labels"] == {"namespace": "veil", "component": "social", "pod": "social-2"}
    assert config["rule_files"] == [str(tmp_path / "rules.yml")]


def _alerts(pod: str, state: str, moments: list[float]) -> dict[str, object]:
    labels = {"alertname": "VeilProcessDown", "alertstate": state, "pod": pod, "severity": "c"}
    return {"metric": {"__name__": "ALERTS", **labels}, "values": [[t, "1"] for t in moments]}


def test_alert_episodes_from_the_alerts_series() -> None:
    series = [
        _alerts("social-2", "pending", [100, 105, 110]),
        _alerts("social-2", "firing", [115, 120]),
        _alerts("social-2", "pending", [300]),  # a second, short episode
        _alerts("gateway", "pending", [40]),
    ]
    found = [(s.labels, s.pending_at, s.fired_at, s.resolved_at) for s in episodes(series, 5)]
    assert found == [
        ("pod=gateway", 40, None, 45),
        ("pod=social-2", 100, 115, 125),
        ("pod=social-2", 300, None, 305),
    ]


def test_fault_table_names_alerts_recovery_and_silent_faults() -> None:
    seen = Seen("VeilReplicaDown", "component=social", 100.0, 110.0, 150.0)
    stopped = Struck(Fault("replica stopped", 0, _nothing), began=95.0, ended=125.0)
    stopped.recovered = 130.0
    killed = Struck(Fault("kill -9 social", 0, _nothing, ("VeilProcessDown",)), began=200.0)
    lines = fault_lines([stopped, killed], [seen], start_at=90.0)
    assert lines[0].startswith("f0 replica stopped") and "recovered in 35s" in lines[0]
    assert lines[1] == (
        "     → VeilReplicaDown{component=social} pending 10s fired 20s resolved 60s"
    )
    assert lines[2].startswith("f1 kill -9 social") and "recovered in never" in lines[2]
    assert lines[3] == "     → no alert fired (silent fault)"
    assert silent([stopped, killed], [seen]) == ["kill -9 social"]


def test_a_fault_too_short_to_page_says_why_and_one_without_a_reason_is_silent() -> None:
    pending = Seen("VeilReplicaLag", "component=social", 100.0, None, 130.0)
    paused = Struck(Fault("WAL paused", 0, _nothing, unpaged="30 s < for 5m"), began=95.0)
    unexplained = Struck(Fault("mystery", 0, _nothing), began=200.0)
    lines = fault_lines([paused, unexplained], [pending], start_at=90.0)
    assert lines[1] == (
        "     → VeilReplicaLag{component=social} pending 10s fired never resolved 40s"
    )
    assert lines[2] == "     → not paged, on purpose: 30 s < for 5m"
    assert lines[4] == "     → no alert fired, no reason given (silent fault)"
    assert silent([paused, unexplained], [pending]) == ["mystery"]
