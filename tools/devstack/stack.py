"""Run the whole Veil system locally as real processes.

Used by ``make up``/``make down`` (detached, long-lived), by the test suite
(processes die with the test run) and by ``make bench``. Stdlib, grpcio and PyYAML
(who calls whom comes from the chart's values.yaml, :mod:`tools.devstack.calls`).

Layout under the root folder: ``logs/<process>.log``, ``run/<process>.pid``,
``secrets.json`` (random local keys, never a real token).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tools.devstack.environment import SERVICES, WORKERS, StackEnvironment
from tools.devstack.infra import lifecycle
from tools.devstack.infra.config import SERVICE_ROLES
from tools.devstack.ports import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]


def dying_with_parent(command: Sequence[str]) -> list[str]:
    """``command`` made to die when the thread that spawns it ends (PR_SET_PDEATHSIG),
    so that a test run that is killed takes its servers along.

    util-linux's ``setpriv`` sets the signal and then execs the command. A
    ``preexec_fn`` would do it in Python between fork and exec: that forces a
    full fork() of a process with gRPC and other threads, whose fork handlers
    can deadlock the child before it ever execs (seen as a service that never
    became ready, its log holding only gRPC's "epoll_wait error: Bad file
    descriptor"). Without ``preexec_fn``, subprocess spawns with vfork.
    """
    return ["setpriv", "--pdeathsig", "TERM", "--", *command]


@dataclass
class Stack(StackEnvironment):
    """Veil's processes on top of :mod:`tools.devstack.infra`: spawned, awaited, stopped.

    Its configuration (ports, keys, each process's environment) is :class:`StackEnvironment`.
    """

    def _command(self, name: str) -> list[str]:
        if name == "notifier-worker":
            # The Helm chart runs exactly this command.
            return [sys.executable, "-m", "services.notifier.worker"]
        module = "tools.telegram_emulator" if name == "emulator" else f"services.{name}"
        return [sys.executable, "-m", module]

    def _pidfile(self, name: str) -> Path:
        return self.root / "run" / f"{name}.pid"

    def log_path(self, name: str) -> Path:
        """Where a process writes its log."""
        return self.root / "logs" / f"{name}.log"

    def spawn(
        self, name: str, *, instance: str | None = None, env: Mapping[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start one process with its environment; its output goes to its log.

        ``instance`` names a second process of the same kind (its own log and
        pidfile, e.g. another notifier worker); ``env`` overrides variables.
        """
        label = instance or name
        self.log_path(label).parent.mkdir(parents=True, exist_ok=True)
        self._pidfile(label).parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.service_env(name), **(env or {}), "PYTHONUNBUFFERED": "1"}
        env["PYTHONPATH"] = str(REPO_ROOT)
        with self.log_path(label).open("ab") as log:
            command = self._command(name)
            process = subprocess.Popen(
                dying_with_parent(command) if self.attached else command,
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._pidfile(label).write_text(str(process.pid))
        return process

    def migrate(self) -> None:
        """Apply every service's migrations (idempotent)."""
        for name in SERVICES:
            env = {
                **os.environ,
                "PYTHONPATH": str(REPO_ROOT),
                "VEIL_DB_PRIMARY_DSN": self.infra_config.pg_dsn(SERVICE_ROLES[name]),
                **self.seal_env(),
            }
            _run([sys.executable, "-m", "veil.cli", "migrate", name], env)

    def wait_grpc(self, name: str, timeout: float = 30.0) -> None:
        """Block until the service answers SERVING on the gRPC health protocol."""
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        deadline = time.monotonic() + timeout
        target = f"127.0.0.1:{getattr(self.ports, name)}"
        with grpc.insecure_channel(target) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while True:
                try:
                    status = stub.Check(health_pb2.HealthCheckRequest(), timeout=1).status
                    if status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{name} not healthy after {timeout}s; see "
                        f"{self.log_path(name)}:\n{_tail(self.log_path(name))}"
                    )
                time.sleep(0.1)

    def wait_http(self, name: str, url: str, timeout: float = 30.0) -> None:
        """Block until ``url`` answers 200."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{name} not ready after {timeout}s; see "
                    f"{self.log_path(name)}:\n{_tail(self.log_path(name))}"
                )
            time.sleep(0.1)

    def start_infra(self) -> None:
        """Postgres (primary + replica) and the Redis Cluster, then migrations."""
        lifecycle.start(self.infra_config)
        self.migrate()

    def start_services(self) -> None:
        """The emulator (unless a real Bot API is used) and the gRPC services."""
        if self.telegram_api_url is None:
            self.spawn("emulator")
            self.wait_http("emulator", f"{self.emulator_url}/healthz")
        for name in SERVICES:
            self.spawn(name)
        for name in SERVICES:
            self.wait_grpc(name)
        self.start_workers()

    def start_workers(self) -> None:
        """The notifier's delivery worker (after the services it calls)."""
        self.spawn("notifier-worker")
        self.wait_http(
            "notifier-worker", f"http://127.0.0.1:{self.ports.notifier_worker_metrics}/healthz"
        )

    def start_worker(self, instance: str) -> tuple[subprocess.Popen[bytes], int]:
        """One more notifier worker named ``instance`` on a free metrics port.

        Returns the process and its metrics port once it is healthy; stop it
        with ``stop_process(instance)`` (``stop_processes`` does too).
        """
        port = free_port()
        process = self.spawn(
            "notifier-worker", instance=instance, env={"VEIL_METRICS_PORT": str(port)}
        )
        self.extra_workers.append(instance)
        self.wait_http(instance, f"http://127.0.0.1:{port}/healthz")
        return process, port

    def start_gateway(self) -> None:
        """The gateway; it sets the webhook of every registered community on start."""
        self.spawn("gateway")
        self.wait_http("gateway", f"{self.gateway_url}/readyz")

    def running(self, name: str) -> bool:
        """True when the process of ``name`` recorded in its pidfile is alive."""
        pidfile = self._pidfile(name)
        return pidfile.exists() and _alive(int(pidfile.read_text()))

    def stop_process(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        """Signal one process and wait for it to exit."""
        pidfile = self._pidfile(name)
        if not pidfile.exists():
            return
        pid = int(pidfile.read_text())
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pidfile.unlink(missing_ok=True)
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.05)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
        pidfile.unlink(missing_ok=True)

    def stop_processes(self) -> None:
        """Gateway first (no new work), then workers, services, the emulator."""
        for name in ("gateway", *self.extra_workers, *WORKERS, *SERVICES, "emulator"):
            self.stop_process(name)
        self.extra_workers.clear()

    def add_community(
        self, token: str, channel: int, admin_chat: int, title: str, username: str = ""
    ) -> str:
        """Register a community through the ``veil`` CLI; returns its output."""
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **self.service_env("cli")}
        command = [
            sys.executable,
            "-m",
            "veil.cli",
            "community",
            "add",
            "--token",
            token,
            "--channel",
            str(channel),
            "--admin-chat",
            str(admin_chat),
            "--title",
            title,
        ]
        if username:
            command += ["--username", username]
        return _run(command, env)


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _run(command: list[str], env: Mapping[str, str]) -> str:
    result = subprocess.run(
        command, cwd=REPO_ROOT, env=dict(env), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:5])}… failed:\n{result.stderr[-2000:]}")
    return result.stdout
