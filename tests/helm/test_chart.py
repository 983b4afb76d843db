"""The Helm chart, rendered by the real Helm engine and checked against Kubernetes 1.30.

No cluster: the chart is rendered with helm-python-sdk (Helm v4's Go engine via
its C ABI), every object is validated with kubernetes-validate's 1.30 schemas,
and the invariants a platform engineer relies on are asserted on the objects.
"""

from __future__ import annotations

from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest

from tests.support import chart
from tests.support.chart import (
    CHART,
    COMPONENTS,
    GRPC_SERVICES,
    KUBERNETES_VERSION,
    RELEASE,
    REQUIRED,
    container,
    deployment,
    merge,
    of_kind,
    rendered,
)

VALUE_SETS = chart.value_sets()


@pytest.mark.parametrize("value_set", list(VALUE_SETS))
def test_every_object_is_valid_kubernetes_1_30(value_set: str) -> None:
    objs = rendered(value_set)
    kinds = [o["kind"] for o in objs]
    assert kinds.count("Deployment") == len(COMPONENTS)
    for obj in objs:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']}: {error}")


@pytest.mark.parametrize("value_set", ["default", "production", "ingress-on"])
def test_helm_lint_has_no_errors(value_set: str) -> None:
    report = helm.lint(CHART, VALUE_SETS[value_set], kube_version=f"v{KUBERNETES_VERSION}")
    errors = [m for m in report["messages"] if m["severity"] >= 3]
    assert report["total_charts_linted"] == 1
    assert not errors and not report["errors"], report


def test_helm_lint_reports_missing_required_values() -> None:
    # The same lint that passes above fails on the chart's bare defaults: the
    # required values are really required.
    report = helm.lint(CHART, {}, kube_version=f"v{KUBERNETES_VERSION}")
    assert any("/publicUrl" in m["error"] for m in report["messages"] if m["severity"] >= 3)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"publicUrl": ""}, "/publicUrl"),
        ({"publicUrl": "veil.example.org"}, "/publicUrl"),
        ({"gateway": {"replicas": "three"}}, "/gateway/replicas': got string, want integer"),
        ({"redis": {"nodes": "redis-without-port"}}, "/redis/nodes"),
        ({"postgres": {"primary": {"port": "5432"}}}, "/postgres/primary/port"),
        ({"secrets": {"pseudonymKey": ""}}, "/secrets/pseudonymKey': minLength"),
        ({"secrets": {"dbPasswords": {"social": ""}}}, "/secrets/dbPasswords/social"),
        ({"postgres": {"primary": {"host": ""}}}, "/postgres/primary/host"),
        ({"ingress": {"enabled": True}}, "/ingress/host"),
        ({"ingress": {"enabled": "yes"}}, "/ingress/enabled': got string, want boolean"),
        ({"containerSecurityContext": {"readOnlyRootFilesystem": False}}, "readOnlyRoot"),
        (
            {"social": {"settings": {"VEIL_PSEUDONYM_KEY": "x"}}},
            "propertyName 'VEIL_PSEUDONYM_KEY'",
        ),
        ({"gateway": {"settings": {"LOG": "x"}}}, "invalid propertyName 'LOG'"),
        ({"notifierWorker": {"autoscaling": {"maxReplicas": 0}}}, "maxReplicas"),
        ({"logLevel": "LOUD"}, "/logLevel"),
    ],
)
def test_schema_rejects_wrong_values_with_a_clear_message(
    override: dict[str, Any], message: str
) -> None:
    with pytest.raises(helm.HelmValuesError) as raised:
        chart.render(merge(REQUIRED, override))
    assert message in str(raised.value)


def test_schema_requires_secrets_unless_existing_secret() -> None:
    without = {k: v for k, v in REQUIRED.items() if k != "secrets"}
    with pytest.raises(helm.HelmValuesError) as raised:
        chart.render(without)
    assert "/secrets/webhookSecretKey" in str(raised.value)
    # With an existingSecret neither the keys nor the Postgres hosts are needed.
    existing = merge(without, {"secrets": {"existingSecret": "mine"}})
    existing["postgres"] = {}
    assert chart.render(existing)


@pytest.mark.parametrize("value_set", list(VALUE_SETS))
def test_every_deployment_is_probed_sized_and_locked_down(value_set: str) -> None:
    objs = rendered(value_set)
    values = VALUE_SETS[value_set]
    for component in COMPONENTS:
        dep = deployment(objs, component)
        pod = dep["spec"]["template"]["spec"]
        ctr = container(dep)
        ports = {p["name"]: p["containerPort"] for p in ctr["ports"]}
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            spec = ctr[probe]
            if component in GRPC_SERVICES:
                # The gRPC health protocol, on the port the server listens on.
                assert spec["grpc"]["port"] == ports["grpc"], (component, probe)
            else:
                assert spec["httpGet"]["port"] in ports, (component, probe)
        if component == "gateway":
            assert ctr["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert ctr["livenessProbe"]["httpGet"]["path"] == "/healthz"
        if component == "notifierWorker":
            assert ctr["livenessProbe"]["httpGet"]["path"] == "/healthz"
        for kind in ("requests", "limits"):
            assert ctr["resources"][kind]["memory"], (component, kind)
        assert ctr["resources"]["requests"]["cpu"]
        sc = ctr["securityContext"]
        assert sc["runAsNonRoot"] is True
        assert sc["readOnlyRootFilesystem"] is True
        assert sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"]["drop"] == ["ALL"]
        assert sc["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        # The template's pods are the ones the Deployment selects.
        assert chart.selects(
            dep["spec"]["selector"]["matchLabels"], dep["spec"]["template"]["metadata"]["labels"]
        )
        if values.get("topologySpread", {}).get("enabled", True):
            keys = {c["topologyKey"] for c in pod["topologySpreadConstraints"]}
            assert keys == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
            for constraint in pod["topologySpreadConstraints"]:
                assert (
                    constraint["labelSelector"]["matchLabels"]
                    == (dep["spec"]["selector"]["matchLabels"])
                )


@pytest.mark.parametrize("value_set", list(VALUE_SETS))
def test_every_hpa_and_pdb_selects_an_existing_deployment(value_set: str) -> None:
    objs = rendered(value_set)
    deployments = {d["metadata"]["name"]: d for d in of_kind(objs, "Deployment")}
    hpas = list(of_kind(objs, "HorizontalPodAutoscaler"))
    pdbs = list(of_kind(objs, "PodDisruptionBudget"))
    for hpa in hpas:
        target = hpa["spec"]["scaleTargetRef"]
        assert target["kind"] == "Deployment" and target["name"] in deployments
        resources = {
            m["resource"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Resource"
        }
        assert resources == {"cpu", "memory"}
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        # The HPA owns the replica count: the Deployment must not fight it.
        assert "replicas" not in deployments[target["name"]]["spec"]
    covered = set()
    for pdb in pdbs:
        selected = [
            name
            for name, dep in deployments.items()
            if chart.selects(
                pdb["spec"]["selector"]["matchLabels"],
                dep["spec"]["template"]["metadata"]["labels"],
            )
        ]
        assert len(selected) == 1, (pdb["metadata"]["name"], selected)
        covered.add(selected[0])
    assert covered == set(deployments)
    if value_set == "hpa-off":
        assert not hpas
        assert all(d["spec"]["replicas"] == 1 for d in deployments.values())
    else:
        assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas} == set(deployments)


def test_custom_metrics_hooks_for_gateway_rps_and_notifier_queue_depth() -> None:
    objs = rendered("production")
    hpas = {h["metadata"]["name"]: h for h in of_kind(objs, "HorizontalPodAutoscaler")}
    gateway = [m for m in hpas[f"{RELEASE}-gateway"]["spec"]["metrics"] if m["type"] == "Pods"]
    assert gateway[0]["pods"]["metric"]["name"] == "veil_gateway_requests_per_second"
    worker = hpas[f"{RELEASE}-notifier-worker"]["spec"]["metrics"]
    external = [m for m in worker if m["type"] == "External"]
    assert external[0]["external"]["metric"]["name"] == "veil_notifier_queue_depth"
    # Off by default: without a metrics adapter such a metric would block scaling.
    default = rendered("default")
    for hpa in of_kind(default, "HorizontalPodAutoscaler"):
        assert {m["type"] for m in hpa["spec"]["metrics"]} == {"Resource"}
