"""One topology: who calls whom is written once, in values.yaml's ``components``.

The chart derives each process's ``VEIL_<SERVICE>_ADDR`` and each gRPC service's
NetworkPolicy from it, and the local stack (tools/devstack) reads the same map. These
tests render the chart with the real Helm engine and hold all of them to the map, and
the map to what each process's settings read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import chart
from tests.support.chart import (
    CHART,
    COMPONENTS,
    GRPC_SERVICES,
    RELEASE,
    REQUIRED,
    SETTINGS,
    container,
    deployment,
    k8s_name,
    merge,
    of_kind,
    resolve_env,
)
from tools.devstack.calls import calls, process_name
from tools.devstack.infra.config import InfraConfig
from tools.devstack.stack import Stack

# Written out here, apart from the chart: a change of who calls whom must change this too.
CALLERS = {
    "confessions": {"gateway", "social", "notifierWorker"},
    "social": {"gateway"},
    "notifier": {"confessions", "social"},
}
RELEASE_PODS = {"app.kubernetes.io/name": "veil", "app.kubernetes.io/instance": RELEASE}
# What each process connects to besides gRPC, from what its settings read.
REACHED_BY_SETTING = {
    "db_primary_dsn": "postgres",
    "redis_nodes": "redis",
    "telegram_api_url": "telegram",
}


def _map(values: dict[str, Any] | None = None) -> dict[str, set[str]]:
    """component -> the services it calls, from values.yaml (plus ``values`` on top)."""
    shipped = yaml.safe_load((CHART / "values.yaml").read_text())
    merged = merge(shipped, values or {})
    return {name: set(entry["calls"]) for name, entry in merged["components"].items()}


def _admitted(objs: list[dict[str, Any]], service: str) -> set[str]:
    """The components whose pods the service's NetworkPolicy admits (gRPC port only)."""
    name = f"{RELEASE}-{service}-ingress"
    (policy,) = [p for p in of_kind(objs, "NetworkPolicy") if p["metadata"]["name"] == name]
    spec = policy["spec"]
    assert spec["podSelector"]["matchLabels"] == RELEASE_PODS | {
        "app.kubernetes.io/component": service
    }
    assert spec["policyTypes"] == ["Ingress"]
    admitted: set[str] = set()
    for rule in spec["ingress"]:
        assert rule["ports"] == [{"port": "grpc", "protocol": "TCP"}], name
        assert rule["from"], f"{name}: a rule without sources admits everyone"
        for peer in rule["from"]:
            # Only pods of this release, named by component: no namespace, no CIDR.
            assert set(peer) == {"podSelector"}, (name, peer)
            labels = peer["podSelector"]["matchLabels"]
            assert set(labels) == {*RELEASE_PODS, "app.kubernetes.io/component"}, (name, peer)
            assert {k: labels[k] for k in RELEASE_PODS} == RELEASE_PODS
            component = next(
                c for c in COMPONENTS if k8s_name(c) == labels["app.kubernetes.io/component"]
            )
            admitted.add(component)
    return admitted


def _callers(calls_of: dict[str, set[str]], service: str) -> set[str]:
    return {component for component, peers in calls_of.items() if service in peers}


def test_the_map_names_exactly_the_services_each_process_reads() -> None:
    calls_of = _map()
    assert set(calls_of) == set(COMPONENTS)
    for component, peers in calls_of.items():
        read = {
            name.removesuffix("_addr")
            for name in SETTINGS[component].model_fields
            if name.endswith("_addr")
        }
        assert peers == read, component
    for service in GRPC_SERVICES:
        assert _callers(calls_of, service) == CALLERS[service], service


@pytest.mark.parametrize("value_set", ["default", "production", "ingress-on"])
def test_each_service_admits_exactly_its_callers(value_set: str) -> None:
    objs = chart.objects(chart.value_sets()[value_set])
    for service in GRPC_SERVICES:
        assert _admitted(objs, service) == CALLERS[service], service
        # A caller's pods carry the labels the policy selects on.
        for caller in CALLERS[service]:
            labels = deployment(objs, caller)["spec"]["template"]["metadata"]["labels"]
            assert labels["app.kubernetes.io/component"] == k8s_name(caller)


def test_addresses_and_policies_follow_a_changed_map() -> None:
    """The templates read the map, not a copy of it: a new call opens exactly one path."""
    changed = {"components": {"notifier": {"calls": ["social"]}}}
    calls_of = _map(changed)
    objs = chart.objects(merge(REQUIRED, changed))
    for service in GRPC_SERVICES:
        assert _admitted(objs, service) == _callers(calls_of, service), service
    assert _admitted(objs, "social") == {"gateway", "notifier"}
    for component in COMPONENTS:
        env = resolve_env(objs, container(deployment(objs, component)))
        addresses = {n for n in env if n.endswith("_ADDR")}
        assert addresses == {f"VEIL_{s.upper()}_ADDR" for s in calls_of[component]}, component


def test_a_service_nobody_calls_admits_nobody() -> None:
    nobody = {"components": {"gateway": {"calls": ["confessions", "notifier"]}}}
    objs = chart.objects(merge(REQUIRED, nobody))
    assert _admitted(objs, "social") == set()


def test_the_local_stack_gives_each_process_the_addresses_of_the_map(tmp_path: Path) -> None:
    calls_of = _map()
    assert {name: set(peers) for name, peers in calls().items()} == {
        process_name(c): peers for c, peers in calls_of.items()
    }
    stack = Stack(InfraConfig(root=tmp_path))
    for component, peers in calls_of.items():
        env = stack.service_env(process_name(component))
        addresses = {n: v for n, v in env.items() if n.endswith("_ADDR")}
        assert addresses == {
            f"VEIL_{s.upper()}_ADDR": f"127.0.0.1:{getattr(stack.ports, s)}" for s in peers
        }, component


def _reaches(values: dict[str, Any] | None = None) -> dict[str, set[str]]:
    """component -> what it reaches besides gRPC, from values.yaml (plus ``values``)."""
    shipped = yaml.safe_load((CHART / "values.yaml").read_text())
    merged = merge(shipped, values or {})
    return {name: set(entry["reaches"]) for name, entry in merged["components"].items()}


def _egress(objs: list[dict[str, Any]], component: str) -> tuple[set[str], set[str]]:
    """(the services, the other targets) one process's egress policy lets it reach."""
    name = f"{RELEASE}-{k8s_name(component)}-egress"
    (policy,) = [p for p in of_kind(objs, "NetworkPolicy") if p["metadata"]["name"] == name]
    spec = policy["spec"]
    assert spec["podSelector"]["matchLabels"] == RELEASE_PODS | {
        "app.kubernetes.io/component": k8s_name(component)
    }
    assert spec["policyTypes"] == ["Egress"]
    values = yaml.safe_load((CHART / "values.yaml").read_text())["networkPolicy"]
    by_port = {
        53: "dns",
        values["postgres"]["ports"][0]: "postgres",
        values["redis"]["ports"][0]: "redis",
        values["otlp"]["ports"][0]: "otlp",
        values["telegram"]["ports"][0]: "telegram",
    }
    services: set[str] = set()
    targets: set[str] = set()
    for rule in spec["egress"]:
        assert rule["to"], f"{name}: a rule without destinations allows everything"
        selectors = [peer.get("podSelector") for peer in rule["to"]]
        if all(selectors) and all(
            "app.kubernetes.io/component" in s["matchLabels"] for s in selectors
        ):
            # A release's gRPC service, by its pods' labels, on its gRPC port only.
            for selector in selectors:
                labels = selector["matchLabels"]
                assert {k: labels[k] for k in RELEASE_PODS} == RELEASE_PODS
                services.add(labels["app.kubernetes.io/component"])
            assert [p["port"] for p in rule["ports"]] == [50051], name
        else:
            targets |= {by_port[rule["ports"][0]["port"]]}
    return services, targets


def test_each_process_reaches_what_its_settings_read() -> None:
    reaches = _reaches()
    for component, reached in reaches.items():
        read = {
            target
            for setting, target in REACHED_BY_SETTING.items()
            if setting in SETTINGS[component].model_fields
        }
        assert reached == read, component


@pytest.mark.parametrize("value_set", ["default", "production", "ingress-on"])
def test_each_process_egresses_only_to_its_callees_and_what_it_reaches(value_set: str) -> None:
    objs = chart.objects(chart.value_sets()[value_set])
    calls_of, reaches = _map(), _reaches()
    for component in COMPONENTS:
        services, targets = _egress(objs, component)
        assert services == calls_of[component], component
        assert targets == {"dns", "otlp"} | reaches[component], component


def test_egress_follows_a_changed_map() -> None:
    changed = {"components": {"notifier": {"calls": ["social"], "reaches": ["postgres", "redis"]}}}
    objs = chart.objects(merge(REQUIRED, changed))
    assert _egress(objs, "notifier") == ({"social"}, {"dns", "otlp", "postgres", "redis"})
    assert _egress(objs, "social") == ({"confessions", "notifier"}, {"dns", "otlp", "postgres"})
