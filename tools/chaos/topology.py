"""make chaos's stack: every Veil process twice (three notifier workers), behind nginx.

Like the chart's Deployments: two gateways behind the Ingress (tools/chaos/proxy.py),
two pods of each gRPC service reached through one target that lists both
(``ipv4:127.0.0.1:a,127.0.0.1:b``; round_robin spreads calls, as over a
headless Service), three notifier workers. The first instance of each kind
keeps the plain name (its pidfile and log are the ones :class:`Stack` knows);
the others are ``<kind>-2``, ``<kind>-3``. A killed instance is started again
by :meth:`ChaosStack.restart`, as Kubernetes would restart the pod.
"""

from __future__ import annotations

import signal
import socket
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from tools.chaos.proxy import Proxy
from tools.devstack.environment import SERVICES
from tools.devstack.ports import free_port
from tools.devstack.stack import Stack

COUNTS = {"confessions": 2, "social": 2, "notifier": 2, "gateway": 2, "notifier-worker": 3}
_ADDRESS_VARS = {
    "VEIL_CONFESSIONS_ADDR": "confessions",
    "VEIL_SOCIAL_ADDR": "social",
    "VEIL_NOTIFIER_ADDR": "notifier",
}


@dataclass(frozen=True)
class Instance:
    """One process: its label, kind, serving port (gRPC/HTTP, 0: none) and /metrics port."""

    label: str
    kind: str
    port: int
    metrics: int


def plan(counts: dict[str, int] | None = None) -> list[Instance]:
    """Free ports for every instance, first instances named after their kind."""
    result = []
    for kind, count in (counts or COUNTS).items():
        for n in range(1, count + 1):
            label = kind if n == 1 else f"{kind}-{n}"
            port = 0 if kind == "notifier-worker" else free_port()
            result.append(Instance(label, kind, port, free_port()))
    return result


def target(instances: list[Instance], kind: str) -> str:
    """The gRPC target listing every instance of ``kind``."""
    ports = [i.port for i in instances if i.kind == kind]
    return "ipv4:" + ",".join(f"127.0.0.1:{p}" for p in ports)


@dataclass
class ChaosStack(Stack):
    """A :class:`Stack` whose processes run as several instances behind nginx."""

    instances: list[Instance] = field(default_factory=plan)
    proxy: Proxy | None = None
    # Processes die with the thread that spawned them (PR_SET_PDEATHSIG): a
    # fault's thread ends, the pod it restarted must not. One long-lived
    # thread spawns every instance.
    spawner: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(1, thread_name_prefix="chaos-spawner")
    )

    def by_kind(self, kind: str) -> list[Instance]:
        """The instances of one kind."""
        return [i for i in self.instances if i.kind == kind]

    def instance(self, label: str) -> Instance:
        """The instance called ``label``."""
        return next(i for i in self.instances if i.label == label)

    def service_env(self, name: str) -> dict[str, str]:
        """Stack's environment, with every address naming all instances."""
        env = super().service_env(name)
        for var, kind in _ADDRESS_VARS.items():
            if var in env:
                env[var] = target(self.instances, kind)
        if name == "emulator":
            env["VEIL_EMULATOR_WEBHOOK_RETRIES"] = "telegram"
        return env

    def _overrides(self, item: Instance) -> dict[str, str]:
        env = {"VEIL_METRICS_PORT": str(item.metrics)}
        if item.kind in SERVICES:
            env["VEIL_GRPC_PORT"] = str(item.port)
        elif item.kind == "gateway":
            env["VEIL_HTTP_PORT"] = str(item.port)
        return env

    def launch(self, item: Instance) -> None:
        """Start one instance (not waiting for it)."""
        instance = None if item.label == item.kind else item.label
        spawned = self.spawner.submit(
            self.spawn, item.kind, instance=instance, env=self._overrides(item)
        )
        spawned.result()

    def wait_ready(self, item: Instance, timeout: float = 60.0) -> None:
        """Block until the instance answers its readiness check."""
        if item.kind in SERVICES:
            health = f"http://127.0.0.1:{item.metrics}/healthz"
            _wait_serving(item.port, health, timeout, self.log_path(item.label))
        elif item.kind == "gateway":
            self.wait_http(item.label, f"http://127.0.0.1:{item.port}/readyz", timeout)
        else:
            self.wait_http(item.label, f"http://127.0.0.1:{item.metrics}/healthz", timeout)

    def ready(self, item: Instance) -> bool:
        """True when the instance runs and answers its readiness check now."""
        try:
            self.wait_ready(item, timeout=0.5)
        except RuntimeError:
            return False
        return self.running(item.label)

    def start_services(self) -> None:
        """The emulator, both pods of each service, then the three workers."""
        self.spawn("emulator")
        self.wait_http("emulator", f"{self.emulator_url}/healthz")
        for kind in (*SERVICES, "notifier-worker"):
            for item in self.by_kind(kind):
                self.launch(item)
            for item in self.by_kind(kind):
                self.wait_ready(item)

    def start_gateway(self) -> None:
        """Both gateways and nginx in front of them (the webhook URL is nginx's)."""
        for item in self.by_kind("gateway"):
            self.launch(item)
        for item in self.by_kind("gateway"):
            self.wait_ready(item)
        assert self.proxy is not None
        self.proxy.start()

    def kill(self, label: str, sig: int = signal.SIGKILL) -> None:
        """Signal one instance and wait for it to be gone."""
        self.stop_process(label, sig=sig, timeout=30.0)

    def restart(self, label: str, sig: int | None = None) -> float:
        """Start ``label`` again (after stopping it with ``sig``); seconds until ready."""
        item = self.instance(label)
        if sig is not None:
            self.kill(label, sig)
        began = time.monotonic()
        self.launch(item)
        self.wait_ready(item)
        return time.monotonic() - began

    def stop_all(self) -> None:
        """nginx, then every instance (gateways first), then the emulator."""
        if self.proxy is not None:
            self.proxy.stop()
        order = ("gateway", "notifier-worker", *SERVICES)
        for kind in order:
            for item in self.by_kind(kind):
                self.stop_process(item.label)
        self.stop_process("emulator")
        self.spawner.shutdown()


def _wait_serving(port: int, health: str, timeout: float, log: object) -> None:
    """The gRPC port accepts connections and the process's /healthz answers.

    Not a gRPC health call: a gRPC channel in this process while another thread
    forks (a pod restarted) deadlocks in gRPC's fork handlers.
    """
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as sock:
            sock.settimeout(1)
            listening = sock.connect_ex(("127.0.0.1", port)) == 0
        if listening and http_ok(health):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"gRPC :{port} not serving after {timeout}s; see {log}")
        time.sleep(0.1)


def metrics_url(item: Instance) -> str:
    """Where Prometheus scrapes ``item``."""
    return f"127.0.0.1:{item.metrics}"


def http_ok(url: str) -> bool:
    """True when ``url`` answers 200 within a second."""
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False
