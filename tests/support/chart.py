"""Render the Veil chart with the real Helm engine and read the objects back.

Shared by the chart tests and the boot test: value sets, rendering (which
also validates values.schema.json, as ``helm install`` does), and resolving a
container's environment the way the kubelet does (``envFrom`` ConfigMaps,
``secretKeyRef``).
"""

from __future__ import annotations

import base64
import copy
import functools
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import helm_python as helm
import yaml
from pydantic_settings import BaseSettings

from services.confessions.config import ConfessionsSettings
from services.gateway.config import GatewaySettings
from services.notifier.config import NotifierSettings, WorkerSettings
from services.social.config import SocialSettings
from tools.devstack.stack import REPO_ROOT

CHART = REPO_ROOT / "deploy" / "helm" / "veil"
PRODUCTION_VALUES = CHART / "values-production.yaml"
RELEASE = "veil"
NAMESPACE = "veil"
COMPONENTS = ("gateway", "confessions", "social", "notifier", "notifierWorker")
GRPC_SERVICES = ("confessions", "social", "notifier")

# Obviously fake secrets: distinctive so that a leak outside a Secret is found.
FAKE_SECRETS: dict[str, Any] = {
    "webhookSecretKey": "fake-webhook-secret-key-4f1c9a",
    "idHashKey": "fake-id-hash-key-8d2e7b33c1",
    "pseudonymKey": "fake-pseudonym-key-1a2b3c4d5e",
    "sealMasterKeys": "fake1:ZmFrZS1zZWFsLW1hc3Rlci1rZXktMzItYnl0ZXMhISE",
    "sealLookupKey": "fake-seal-lookup-key-0123456789abcdef",
    "dbPasswords": {
        "confessions": "fake-pw-confessions-7731",
        "social": "fake-pw-social-7732",
        "notifier": "fake-pw-notifier-7733",
    },
    "botTokens": {"demo": "7000000001:fake-token-abcdefghijklmnop"},
}

REQUIRED: dict[str, Any] = {
    "publicUrl": "https://veil.example.org",
    "redis": {"nodes": "redis-0.redis:6379,redis-1.redis:6379,redis-2.redis:6379"},
    "postgres": {"primary": {"host": "pg-rw.data.svc"}, "replica": {"host": "pg-ro.data.svc"}},
    "secrets": FAKE_SECRETS,
}


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge two value trees (override wins), like repeated ``-f`` files."""
    result = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def value_sets() -> dict[str, dict[str, Any]]:
    """The value sets every chart test renders."""
    hpa_off = {c: {"autoscaling": {"enabled": False}, "replicas": 1} for c in COMPONENTS}
    return {
        "default": REQUIRED,
        "production": yaml.safe_load(PRODUCTION_VALUES.read_text()),
        "hpa-off": merge(REQUIRED, hpa_off),
        "existing-secret": merge(
            {k: v for k, v in REQUIRED.items() if k != "secrets"},
            {"secrets": {"existingSecret": "veil-managed-secrets"}},
        ),
        "ingress-on": merge(
            REQUIRED,
            {
                "ingress": {"enabled": True, "host": "veil.example.org", "className": "nginx"},
                "otlp": {"endpoint": "http://otel-collector.observability:4317"},
            },
        ),
        "minimal": merge(
            REQUIRED,
            {
                "postgres": {"replica": {"enabled": False, "host": ""}},
                "networkPolicy": {"enabled": False},
                "migrations": {"enabled": False},
                "topologySpread": {"enabled": False},
            },
        ),
    }


def render(values: Mapping[str, Any]) -> dict[str, str]:
    """Template path → rendered text, from the real Helm engine (schema checked)."""
    with helm.Chart.load(CHART) as chart:
        return chart.render(dict(values), name=RELEASE, namespace=NAMESPACE, is_install=True)


def objects(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every Kubernetes object the chart renders (NOTES.txt excluded)."""
    found: list[dict[str, Any]] = []
    for path, text in render(values).items():
        if path.endswith("NOTES.txt"):
            continue
        found += [doc for doc in yaml.safe_load_all(text) if doc]
    return found


def of_kind(objs: list[dict[str, Any]], kind: str) -> Iterator[dict[str, Any]]:
    """Objects of one kind."""
    return (o for o in objs if o["kind"] == kind)


def by_name(objs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    """The one object of ``kind`` called ``name``."""
    matches = [o for o in of_kind(objs, kind) if o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} rendered"
    return matches[0]


def k8s_name(component: str) -> str:
    """Kubernetes name of a component key (notifierWorker → notifier-worker)."""
    return "notifier-worker" if component == "notifierWorker" else component


def deployment(objs: list[dict[str, Any]], component: str) -> dict[str, Any]:
    """The Deployment of a component."""
    return by_name(objs, "Deployment", f"{RELEASE}-{k8s_name(component)}")


def container(workload: Mapping[str, Any]) -> dict[str, Any]:
    """The (single) container of a Deployment or Job."""
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return dict(containers[0])


SECRET_FROM_ELSEWHERE = "<from a Secret not rendered by the chart>"
# What the downward API gives as metadata.name when resolving env here.
POD_NAME = "veil-pod-0"


def secret_data(objs: list[dict[str, Any]], name: str) -> dict[str, str] | None:
    """A rendered Secret's decoded data, or None when the chart does not render it."""
    for secret in of_kind(objs, "Secret"):
        if secret["metadata"]["name"] == name:
            data = {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}
            return data | dict(secret.get("stringData", {}))
    return None


def resolve_env(objs: list[dict[str, Any]], ctr: Mapping[str, Any]) -> dict[str, str]:
    """The environment the kubelet would give the container.

    ``envFrom`` ConfigMaps first, then ``env`` (which wins, as in Kubernetes).
    References to a Secret the chart does not render (``existingSecret``)
    resolve to a marker, so names can still be checked.
    """
    env: dict[str, str] = {}
    for source in ctr.get("envFrom", []):
        ref = source["configMapRef"]["name"]
        env |= {k: str(v) for k, v in by_name(objs, "ConfigMap", ref)["data"].items()}
    for item in ctr.get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
            continue
        if "fieldRef" in item["valueFrom"]:
            # The downward API: the pod's own name and namespace.
            field = item["valueFrom"]["fieldRef"]["fieldPath"]
            env[item["name"]] = {"metadata.name": POD_NAME, "metadata.namespace": NAMESPACE}[field]
            continue
        ref = item["valueFrom"]["secretKeyRef"]
        data = secret_data(objs, ref["name"])
        if data is None:
            env[item["name"]] = SECRET_FROM_ELSEWHERE
        else:
            assert ref["key"] in data, f"{item['name']}: key {ref['key']} not in {ref['name']}"
            env[item["name"]] = data[ref["key"]]
    return env


def repo_path(*parts: str) -> Path:
    """A path inside the repository."""
    return REPO_ROOT.joinpath(*parts)


# Values that turn on the Prometheus Operator's objects (PodMonitor, PrometheusRule).
OPERATOR_ON = {"monitoring": {"podMonitor": {"enabled": True}, "prometheusRule": {"enabled": True}}}


def shipped_dashboard_and_rules() -> tuple[dict[str, Any], dict[str, Any]]:
    """The dashboard JSON from its ConfigMap and the PrometheusRule, as rendered."""
    objs = objects(merge(REQUIRED, OPERATOR_ON))
    configmap = by_name(objs, "ConfigMap", "veil-dashboards")
    return json.loads(configmap["data"]["veil.json"]), by_name(objs, "PrometheusRule", "veil")


KUBERNETES_VERSION = "1.30.0"
# Each process's settings class: the chart's env must match its fields.
SETTINGS: dict[str, type[BaseSettings]] = {
    "gateway": GatewaySettings,
    "confessions": ConfessionsSettings,
    "social": SocialSettings,
    "notifier": NotifierSettings,
    "notifierWorker": WorkerSettings,
}


@functools.cache
def rendered(value_set: str) -> list[dict[str, Any]]:
    """The objects of one named value set (rendered once per run: the engine is the slow part)."""
    return objects(value_sets()[value_set])


def settings_fields(component: str) -> tuple[set[str], set[str]]:
    """(every VEIL_ name, the required VEIL_ names) of a component's settings."""
    cls = SETTINGS[component]
    names = set(cls.model_fields)
    required = {n for n, f in cls.model_fields.items() if f.is_required()}
    return {f"VEIL_{n.upper()}" for n in names}, {f"VEIL_{n.upper()}" for n in required}


def selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """Whether a label selector's ``matchLabels`` pick a pod with ``labels``."""
    return all(labels.get(k) == v for k, v in selector.items())
