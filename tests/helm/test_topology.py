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
