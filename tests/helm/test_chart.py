"""The Helm chart, rendered by the real Helm engine and checked against Kubernetes 1.30.

No cluster: the chart is rendered with helm-python-sdk (Helm v4's Go engine via
its C ABI), every object is validated with kubernetes-validate's 1.30 schemas,
and the invariants a platform engineer relies on are asserted on the objects.
"""

from __future__ import annotations

import json
import re
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml
from pydantic_settings import BaseSettings

from services.confessions.config import ConfessionsSettings
from services.gateway.config import GatewaySettings
from services.notifier.config import NotifierSettings, WorkerSettings
from services.social.config import SocialSettings
from tests.support import chart
from tests.support.chart import (
    CHART,
    COMPONENTS,
    FAKE_SECRETS,
    GRPC_SERVICES,
    NAMESPACE,
    RELEASE,
    REQUIRED,
    container,
    deployment,
    k8s_name,
    merge,
    of_kind,
    repo_path,
    resolve_env,
)

KUBERNETES_VERSION = "1.30.0"
VALUE_SETS = chart.value_sets()
_rendered: dict[str, list[dict[str, Any]]] = {}


def rendered(value_set: str) -> list[dict[str, Any]]:
    """The objects of one value set (rendered once per run: the engine is the slow part)."""
    if value_set not in _rendered:
        _rendered[value_set] = chart.objects(VALUE_SETS[value_set])
    return _rendered[value_set]


SETTINGS: dict[str, type[BaseSettings]] = {
    "gateway": GatewaySettings,
    "confessions": ConfessionsSettings,
    "social": SocialSettings,
    "notifier": NotifierSettings,
    "notifierWorker": WorkerSettings,
}
# The gRPC peers each process calls.
PEERS = {
    "gateway": {"VEIL_CONFESSIONS_ADDR", "VEIL_SOCIAL_ADDR"},
    "confessions": {"VEIL_NOTIFIER_ADDR"},
    "social": {"VEIL_CONFESSIONS_ADDR", "VEIL_NOTIFIER_ADDR"},
    "notifier": set(),
    "notifierWorker": {"VEIL_CONFESSIONS_ADDR"},
}


def _fields(component: str) -> tuple[set[str], set[str]]:
    """(every VEIL_ name, the required VEIL_ names) of a component's settings."""
    cls = SETTINGS[component]
    names = set(cls.model_fields)
    required = {n for n, f in cls.model_fields.items() if f.is_required()}
    return {f"VEIL_{n.upper()}" for n in names}, {f"VEIL_{n.upper()}" for n in required}


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


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
        assert _matches(
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
            if _matches(
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
        assert _matches(service["spec"]["selector"], dep["spec"]["template"]["metadata"]["labels"])
        grpc_port = next(p for p in container(dep)["ports"] if p["name"] == "grpc")
        assert service["spec"]["ports"][0]["targetPort"] == "grpc"
        expected = (
            f"dns:///{RELEASE}-{name}-headless.{NAMESPACE}.svc.cluster.local:"
            f"{grpc_port['containerPort']}"
        )
        assert caller_env[name][f"VEIL_{name.upper()}_ADDR"] == expected
    assert worker_env["VEIL_CONFESSIONS_ADDR"] == gateway_env["VEIL_CONFESSIONS_ADDR"]


@pytest.mark.parametrize("value_set", list(VALUE_SETS))
def test_env_names_are_exactly_the_settings_fields(value_set: str) -> None:
    objs = rendered(value_set)
    for component in COMPONENTS:
        env = resolve_env(objs, container(deployment(objs, component)))
        fields, required = _fields(component)
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


def test_migrations_are_pre_install_and_pre_upgrade_hooks_one_per_schema() -> None:
    objs = rendered("default")
    jobs = {j["metadata"]["name"]: j for j in of_kind(objs, "Job")}
    assert set(jobs) == {f"{RELEASE}-migrate-{s}" for s in GRPC_SERVICES}
    secret = next(of_kind(objs, "Secret"))
    secret_weight = int(secret["metadata"]["annotations"]["helm.sh/hook-weight"])
    for service in GRPC_SERVICES:
        job = jobs[f"{RELEASE}-migrate-{service}"]
        annotations = job["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
        # The Secret the Job reads exists before it (hooks run by weight).
        assert int(annotations["helm.sh/hook-weight"]) > secret_weight
        assert "pre-install" in secret["metadata"]["annotations"]["helm.sh/hook"]
        ctr = container(job)
        assert ctr["command"] + ctr["args"] == ["python", "-m", "veil.cli", "migrate", service]
        assert ctr["securityContext"]["readOnlyRootFilesystem"] is True
        assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert not list(of_kind(rendered("minimal"), "Job"))


def test_ingress_exposes_only_the_webhook_and_mini_app_paths() -> None:
    objs = rendered("ingress-on")
    (ingress,) = of_kind(objs, "Ingress")
    (rule,) = ingress["spec"]["rules"]
    path, miniapp = rule["http"]["paths"]
    assert rule["host"] == "veil.example.org"
    assert path["path"] == "/webhook/" and path["pathType"] == "Prefix"
    assert miniapp["path"] == "/miniapp/" and miniapp["pathType"] == "Prefix"
    for exposed in (path, miniapp):
        service = exposed["backend"]["service"]
        assert service["name"] == f"{RELEASE}-gateway" and service["port"]["name"] == "http"
    gateway_service = chart.by_name(objs, "Service", f"{RELEASE}-gateway")
    assert gateway_service["spec"]["ports"][0]["name"] == "http"
    assert not list(of_kind(rendered("default"), "Ingress"))


def test_network_policies() -> None:
    objs = rendered("default")
    policies = {p["metadata"]["name"]: p["spec"] for p in of_kind(objs, "NetworkPolicy")}
    release_pods = {"app.kubernetes.io/name": "veil", "app.kubernetes.io/instance": RELEASE}
    deny = policies[f"{RELEASE}-default-deny"]
    assert deny["podSelector"]["matchLabels"] == release_pods
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"} and "ingress" not in deny
    # Only the gateway's policy admits traffic from outside the release.
    open_to_outside = [
        name
        for name, spec in policies.items()
        for rule in spec.get("ingress", [])
        if not rule.get("from")
    ]
    assert open_to_outside == [f"{RELEASE}-gateway-ingress"]
    # Each gRPC service admits only its callers (tests/helm/test_topology.py).
    for service in GRPC_SERVICES:
        assert f"{RELEASE}-{service}-ingress" in policies
    # Prometheus may scrape the metrics port, from the configured peers only.
    (scrape,) = policies[f"{RELEASE}-metrics-ingress"]["ingress"]
    assert scrape["ports"] == [{"port": "metrics", "protocol": "TCP"}]
    assert scrape["from"] == VALUE_SETS["default"].get("networkPolicy", {}).get(
        "metricsFrom",
        [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
    )
    closed = chart.objects(merge(REQUIRED, {"networkPolicy": {"metricsFrom": []}}))
    names = {p["metadata"]["name"] for p in of_kind(closed, "NetworkPolicy")}
    assert f"{RELEASE}-metrics-ingress" not in names and f"{RELEASE}-egress" in names
    egress = policies[f"{RELEASE}-egress"]["egress"]
    ports = {p["port"] for rule in egress for p in rule["ports"]}
    assert ports == {53, 5432, 6379, 4317, 4318, 443, 50051}
    telegram = next(r for r in egress if any(p["port"] == 443 for p in r["ports"]))
    assert {"ipBlock": {"cidr": "149.154.160.0/20"}} in telegram["to"]
    for rule in egress:
        assert rule["to"], "an egress rule without destinations allows everything"
    assert not list(of_kind(rendered("minimal"), "NetworkPolicy"))


def test_production_example() -> None:
    objs = rendered("production")
    values = VALUE_SETS["production"]
    gateway = chart.by_name(objs, "HorizontalPodAutoscaler", f"{RELEASE}-gateway")
    assert gateway["spec"]["minReplicas"] >= 3 and gateway["spec"]["maxReplicas"] > 3
    assert values["gateway"]["replicas"] >= 3
    pod = deployment(objs, "gateway")["spec"]["template"]["spec"]
    anti = pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert anti[0]["topologyKey"] == "kubernetes.io/hostname"
    assert _matches(
        anti[0]["labelSelector"]["matchLabels"],
        deployment(objs, "gateway")["spec"]["template"]["metadata"]["labels"],
    )
    assert container(deployment(objs, "gateway"))["image"].startswith(
        "registry.example.invalid/veil@sha256:"
    )
    assert values["secrets"] == {"existingSecret": "veil-secrets"}


def test_notes_tell_how_to_add_a_community_and_set_webhooks() -> None:
    notes = chart.render(VALUE_SETS["ingress-on"])[f"{chart.CHART.name}/templates/NOTES.txt"]
    assert "veil.cli community add --token" in notes
    assert "setWebhook" in notes
    assert "https://veil.example.org/webhook/<community id>" in notes
    assert f"deploy/{RELEASE}-confessions" in notes


def _dockerfile_stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    text = repo_path("Dockerfile").read_text()
    for line in re.sub(r"\\\n", " ", text).splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, rest = line.partition(" ")
        if instruction.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.upper(), rest.strip()))
    return stages


def test_dockerfile_is_multistage_pinned_non_root_and_copies_what_exists() -> None:
    stages = _dockerfile_stages()
    assert len(stages) >= 2
    for stage in stages:
        image = stage[0][1].split()[0]
        # An exact patch version or a digest: never a floating tag.
        assert "@sha256:" in image or re.search(r":\d+\.\d+\.\d+", image), image
    final = stages[-1]
    users = [rest for instruction, rest in final if instruction == "USER"]
    assert users and users[-1].split(":")[0] not in {"0", "root"}
    assert re.fullmatch(r"\d+(:\d+)?", users[-1]), "numeric USER, so runAsNonRoot can check it"
    runs = " ".join(rest for instruction, rest in final if instruction == "RUN")
    for tool in ("gcc", "build-essential", "make ", "pip install", "apt-get install"):
        assert tool not in runs, f"final stage installs {tool.strip()}"
    copies = 0
    for stage in stages:
        for instruction, rest in stage:
            if instruction not in {"COPY", "ADD"}:
                continue
            args = [a for a in rest.split() if not a.startswith("--")]
            if "--from=" in rest:
                continue
            for source in args[:-1]:
                copies += 1
                assert repo_path(source).exists(), f"Dockerfile copies missing {source}"
    assert copies >= 3
    ignore = repo_path(".dockerignore").read_text().splitlines()
    for source in ("!veil/", "!services/", "!pyproject.toml"):
        assert source in ignore


@pytest.mark.parametrize("value_set", ["default", "production"])
def test_every_command_the_chart_runs_exists_in_the_repo(value_set: str) -> None:
    objs = rendered(value_set)
    workloads = [*of_kind(objs, "Deployment"), *of_kind(objs, "Job")]
    assert len(workloads) >= len(COMPONENTS)
    for workload in workloads:
        ctr = container(workload)
        argv = ctr["command"] + ctr.get("args", [])
        assert argv[:2] == ["python", "-m"], argv
        module = argv[2]
        parts = module.split(".")
        package = repo_path(*parts)
        exists = (package / "__main__.py").exists() or package.with_suffix(".py").exists()
        if module == "services.notifier.worker" and not exists:
            # The notifier workers are being written on another branch; until
            # that merges the chart renders their Deployment but the module is
            # absent. The integrator removes this branch of the test.
            assert workload["metadata"]["name"] == f"{RELEASE}-{k8s_name('notifierWorker')}"
            continue
        assert exists, f"{workload['metadata']['name']} runs missing module {module}"
        if module == "veil.cli":
            assert argv[3] == "migrate" and argv[4] in GRPC_SERVICES


def test_chart_metadata() -> None:
    meta = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert meta["apiVersion"] == "v2" and meta["name"] == "veil"
    with helm.Chart.load(CHART) as loaded:
        assert loaded.schema is not None
        assert loaded.values["gateway"]["httpPort"] == 8080


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


def test_key_rotation_jobs_are_post_upgrade_hooks_per_sealed_schema() -> None:
    assert not [
        j for j in of_kind(rendered("default"), "Job") if "keys-rotate" in j["metadata"]["name"]
    ]
    objs = chart.objects(chart.merge(chart.REQUIRED, {"keyRotation": {"enabled": True}}))
    jobs = {
        j["metadata"]["name"]: j
        for j in of_kind(objs, "Job")
        if "keys-rotate" in j["metadata"]["name"]
    }
    assert set(jobs) == {f"{RELEASE}-keys-rotate-{s}" for s in ("confessions", "notifier")}
    for name, job in jobs.items():
        assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-upgrade"
        ctr = container(job)
        service = name.rsplit("-", 1)[1]
        assert ctr["command"] + ctr["args"] == [
            "python",
            "-m",
            "veil.cli",
            "keys",
            "rotate",
            service,
        ]
        names = {item["name"] for item in ctr["env"]}
        assert {"VEIL_DB_PRIMARY_DSN", "VEIL_SEAL_MASTER_KEYS", "VEIL_SEAL_LOOKUP_KEY"} <= names
