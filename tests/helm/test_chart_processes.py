"""The chart's processes: gRPC services, env names and values, peers, secrets and keys.

Rendered by the real Helm engine (see test_chart.py); each env is held to its settings class.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support import chart
from tests.support.chart import (
    COMPONENTS,
    FAKE_SECRETS,
    GRPC_SERVICES,
    NAMESPACE,
    RELEASE,
    REQUIRED,
    container,
    deployment,
    of_kind,
    rendered,
    resolve_env,
    settings_fields,
)

VALUE_SETS = chart.value_sets()

# The gRPC peers each process calls.
PEERS = {
    "gateway": {"VEIL_CONFESSIONS_ADDR", "VEIL_SOCIAL_ADDR"},
    "confessions": {"VEIL_NOTIFIER_ADDR"},
    "social": {"VEIL_CONFESSIONS_ADDR", "VEIL_NOTIFIER_ADDR"},
    "notifier": set(),
    "notifierWorker": {"VEIL_CONFESSIONS_ADDR"},
}


@pytest.mark.parametrize("value_set", list(VALUE_SETS))
def test_every_grpc_service_has_a_headless_service_the_clients_resolve(value_set: str) -> None:
    objs = rendered(value_set)
    services = {s["metadata"]["name"]: s for s in of_kind(objs, "Service")}
    gateway_env = resolve_env(objs, container(deployment(objs, "gateway")))
    worker_env = resolve_env(objs, container(deployment(objs, "notifierWorker")))
    # The gateway calls confessions and social; the notifier is called by the services.
    confessions_env = resolve_env(objs, container(deployment(objs, "confessions")))
    caller_env = {"confessions": gateway_env, "social": gateway_env, "notifier": confessions_env}
    for name in GRPC_SERVICES:
        dep = deployment(objs, name)
        service = services[f"{RELEASE}-{name}-headless"]
        assert service["spec"]["clusterIP"] == "None"
        assert chart.selects(
            service["spec"]["selector"], dep["spec"]["template"]["metadata"]["labels"]
        )
        grpc_port = next(p for p in container(dep)["ports"] if p["name"] == "grpc")
        assert service["spec"]["ports"][0]["targetPort"] == "grpc"
        expected = (
            f"dns:///{RELEASE}-{name}-headless.{NAMESPACE}.svc.cluster.local:"
            f"{grpc_port['containerPort']}"
        )
        assert caller_env[name][f"VEIL_{name.upper()}_ADDR"] == expected
    assert worker_env["VEIL_CONFESSIONS_ADDR"] == gateway_env["VEIL_CONFESSIONS_ADDR"]


@pytest.mark.parametrize("value_set", list(VALUE_SETS))
def test_env_names_are_exactly_the_settingssettings_fields(value_set: str) -> None:
    objs = rendered(value_set)
    for component in COMPONENTS:
        env = resolve_env(objs, container(deployment(objs, component)))
        fields, required = settings_fields(component)
        veil_names = {n for n in env if n.startswith("VEIL_")}
        assert required <= veil_names, (component, required - veil_names)
        assert veil_names <= fields, (component, veil_names - fields)
        # Nothing but VEIL_* settings and OpenTelemetry's standard variables.
        assert all(n.startswith(("VEIL_", "OTEL_")) for n in env), (component, env.keys())
    for job in of_kind(objs, "Job"):
        env = resolve_env(objs, container(job))
        assert "VEIL_DB_PRIMARY_DSN" in env
        # Migrations of a sealed schema seal the data already there.
        sealing = {"VEIL_SEAL_MASTER_KEYS", "VEIL_SEAL_LOOKUP_KEY"}
        if job["metadata"]["name"].endswith("-social"):
            sealing = set()
        assert {n for n in env if n.startswith("VEIL_")} == {
            "VEIL_DB_PRIMARY_DSN",
            "VEIL_LOG_LEVEL",
            *sealing,
        }


@pytest.mark.parametrize("value_set", list(VALUE_SETS))
def test_every_process_has_metrics_pod_identity_and_its_peers(value_set: str) -> None:
    objs = rendered(value_set)
    gateway_env = resolve_env(objs, container(deployment(objs, "gateway")))
    targets: dict[str, str] = {}
    for component in COMPONENTS:
        ctr = container(deployment(objs, component))
        env = resolve_env(objs, ctr)
        metrics = next(p for p in ctr["ports"] if p["name"] == "metrics")
        assert env["VEIL_METRICS_PORT"] == str(metrics["containerPort"]), component
        assert env["VEIL_METRICS_HOST"] == "0.0.0.0", component
        fields = {
            i["name"]: i["valueFrom"]["fieldRef"]
            for i in ctr["env"]
            if "fieldRef" in i.get("valueFrom", {})
        }
        assert fields == {
            "VEIL_POD_NAME": {"fieldPath": "metadata.name"},
            "VEIL_POD_NAMESPACE": {"fieldPath": "metadata.namespace"},
        }, component
        assert env["VEIL_POD_NAMESPACE"] == NAMESPACE
        # Every caller of a service reaches it through the same headless target,
        # each process only the peers it calls.
        peers = {n for n in env if n.endswith("_ADDR")}
        assert peers == PEERS[component], component
        for peer in peers:
            assert env[peer] == targets.setdefault(peer, env[peer]), (component, peer)
    confessions = resolve_env(objs, container(deployment(objs, "confessions")))
    assert confessions["VEIL_REDIS_NODES"] == gateway_env["VEIL_REDIS_NODES"]
    endpoint = VALUE_SETS[value_set].get("otlp", {}).get("endpoint")
    if endpoint:
        assert gateway_env["VEIL_OTLP_ENDPOINT"] == endpoint
    else:
        assert "VEIL_OTLP_ENDPOINT" not in gateway_env
    assert value_set not in {"ingress-on", "production"} or endpoint


def test_env_values_follow_the_values() -> None:
    objs = rendered("ingress-on")
    gateway = resolve_env(objs, container(deployment(objs, "gateway")))
    assert gateway["VEIL_PUBLIC_URL"] == "https://veil.example.org"
    assert gateway["VEIL_REDIS_NODES"] == REQUIRED["redis"]["nodes"]
    assert gateway["VEIL_WEBHOOK_SECRET_KEY"] == FAKE_SECRETS["webhookSecretKey"]
    assert gateway["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector.observability:4317"
    social = resolve_env(objs, container(deployment(objs, "social")))
    assert social["VEIL_PSEUDONYM_KEY"] == FAKE_SECRETS["pseudonymKey"]
    assert social["VEIL_DB_PRIMARY_DSN"] == (
        "postgresql+asyncpg://veil_social:fake-pw-social-7732@pg-rw.data.svc:5432/veil"
    )
    assert social["VEIL_DB_REPLICA_DSN"].endswith("@pg-ro.data.svc:5432/veil")
    worker = resolve_env(objs, container(deployment(objs, "notifierWorker")))
    notifier = resolve_env(objs, container(deployment(objs, "notifier")))
    assert worker["VEIL_DB_PRIMARY_DSN"] == notifier["VEIL_DB_PRIMARY_DSN"]
    minimal = rendered("minimal")
    assert "VEIL_DB_REPLICA_DSN" not in resolve_env(
        minimal, container(deployment(minimal, "social"))
    )


def _secret_strings(values: dict[str, Any]) -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, str) and node:
            found.add(node)

    walk({k: v for k, v in values.get("secrets", {}).items() if k != "existingSecret"})
    return found


@pytest.mark.parametrize("value_set", list(VALUE_SETS))
def test_no_secret_value_appears_outside_a_secret(value_set: str) -> None:
    objs = rendered(value_set)
    secrets = _secret_strings(VALUE_SETS[value_set])
    for obj in objs:
        if obj["kind"] == "Secret":
            continue
        text = json.dumps(obj)
        leaked = [s for s in secrets if s in text]
        assert not leaked, f"{obj['kind']}/{obj['metadata']['name']} carries a secret"
    notes = chart.render(VALUE_SETS[value_set])[f"{chart.CHART.name}/templates/NOTES.txt"]
    assert not [s for s in secrets if s in notes]
    secret_names = {"VEIL_PSEUDONYM_KEY", "VEIL_WEBHOOK_SECRET_KEY", "VEIL_ID_HASH_KEY"}
    secret_names |= {"VEIL_SEAL_MASTER_KEYS", "VEIL_SEAL_LOOKUP_KEY"}
    secret_names |= {"VEIL_DB_PRIMARY_DSN", "VEIL_DB_REPLICA_DSN"}
    for config_map in of_kind(objs, "ConfigMap"):
        assert not secret_names & set(config_map["data"]), config_map["metadata"]["name"]
    if value_set == "existing-secret":
        assert not list(of_kind(objs, "Secret"))
        refs = {
            item["valueFrom"]["secretKeyRef"]["name"]
            for d in of_kind(objs, "Deployment")
            for item in container(d).get("env", [])
            if "secretKeyRef" in item.get("valueFrom", {})
        }
        assert refs == {"veil-managed-secrets"}


def test_sealing_keys_reach_the_processes_and_jobs_that_seal_and_only_them() -> None:
    objs = rendered("default")
    seal = {"VEIL_SEAL_MASTER_KEYS", "VEIL_SEAL_LOOKUP_KEY"}
    for workload in of_kind(objs, "Deployment"):
        names = {item["name"] for item in container(workload).get("env", [])}
        component = workload["metadata"]["labels"]["app.kubernetes.io/component"]
        expected = component in ("confessions", "notifier", "notifierWorker", "notifier-worker")
        assert (seal <= names) is expected, component
        assert expected or not seal & names, component
    for job in of_kind(objs, "Job"):
        names = {item["name"] for item in container(job)["env"]}
        assert (seal <= names) is not job["metadata"]["name"].endswith("social"), names
    secret = next(of_kind(objs, "Secret"))
    assert {"seal-master-keys", "seal-lookup-key"} <= set(secret["stringData"])
