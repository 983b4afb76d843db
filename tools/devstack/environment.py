"""The local stack's configuration: where each process listens and the environment it gets.

Who calls whom comes from the chart's values.yaml (:mod:`tools.devstack.calls`), the
keys from ``secrets.json`` under the stack's root (random local keys, never a real token).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from tools.devstack.calls import calls
from tools.devstack.infra.config import SERVICE_ROLES, InfraConfig
from tools.devstack.ports import Ports
from veil.core.sealing import new_master_key

SERVICES = ("confessions", "social", "notifier")
# Processes that are not gRPC services: the notifier's delivery worker.
WORKERS = ("notifier-worker",)


@dataclass
class StackEnvironment:
    """What the local stack is made of: its ports, keys and each process's ``VEIL_*`` environment.

    ``telegram_api_url`` None means: run the emulator and talk to it.
    ``attached`` processes die with the Python process that started them.
    """

    infra_config: InfraConfig
    ports: Ports = field(default_factory=Ports)
    telegram_api_url: str | None = None
    public_url: str | None = None
    attached: bool = False
    log_level: str = "INFO"
    extra_env: dict[str, str] = field(default_factory=dict)
    # Each process writes its spans to <trace_dir>/<process>.jsonl (make up).
    trace_dir: Path | None = None
    # Workers started by start_worker (their instance names).
    extra_workers: list[str] = field(default_factory=list)

    @property
    def root(self) -> Path:
        """The stack's folder."""
        return self.infra_config.root

    @property
    def emulator_url(self) -> str:
        """Base URL of the emulator."""
        return f"http://127.0.0.1:{self.ports.emulator}"

    @property
    def gateway_url(self) -> str:
        """Base URL of the gateway."""
        return f"http://127.0.0.1:{self.ports.gateway}"

    @property
    def api_url(self) -> str:
        """The Bot API the processes talk to."""
        return self.telegram_api_url or self.emulator_url

    def secrets(self) -> dict[str, str]:
        """Local keys, made once per root and kept in ``secrets.json``."""
        path = self.root / "secrets.json"
        stored = dict(json.loads(path.read_text())) if path.exists() else {}
        fresh = {
            "webhook_secret_key": secrets.token_urlsafe(32),
            "id_hash_key": secrets.token_urlsafe(32),
            "pseudonym_key": secrets.token_urlsafe(32),
            "demo_bot_token": f"7000000001:{secrets.token_urlsafe(27)}",
            # Sealed data (veil/core/sealing.py): the current master key, and the
            # lookup key of keyed hashes. Added to a root made before they existed.
            "seal_master_keys": f"dev1:{new_master_key()}",
            "seal_lookup_key": secrets.token_urlsafe(32),
        }
        if stored and fresh.keys() <= stored.keys():
            return stored
        values = fresh | stored
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values, indent=2))
        path.chmod(0o600)
        return values

    def seal_env(self) -> dict[str, str]:
        """The sealing keys (confessions, notifier, its workers, migrations, ``veil keys``)."""
        keys = self.secrets()
        env = {
            "VEIL_SEAL_MASTER_KEYS": keys["seal_master_keys"],
            "VEIL_SEAL_LOOKUP_KEY": keys["seal_lookup_key"],
        }
        # extra_env may carry a rotation's key list: it wins, as in service_env.
        return env | {k: v for k, v in self.extra_env.items() if k in env}

    def service_env(self, name: str) -> dict[str, str]:
        """The ``VEIL_*`` environment of one process."""
        keys = self.secrets()
        env = {"VEIL_LOG_LEVEL": self.log_level, "VEIL_ENVIRONMENT": "local"}
        if name in (*SERVICES, *WORKERS, "gateway"):
            env |= {
                "VEIL_METRICS_HOST": "127.0.0.1",
                "VEIL_METRICS_PORT": str(self.ports.metrics(name)),
            }
            if self.trace_dir is not None:
                env["VEIL_TRACE_FILE"] = str(self.trace_dir / f"{name}.jsonl")
        if name in SERVICES:
            env |= self._grpc_service_env(name, keys)
        elif name == "notifier-worker":
            env |= {
                "VEIL_DB_PRIMARY_DSN": self.infra_config.pg_dsn(SERVICE_ROLES["notifier"]),
                "VEIL_DB_REPLICA_DSN": self.infra_config.pg_dsn(
                    SERVICE_ROLES["notifier"], replica=True
                ),
                "VEIL_REDIS_NODES": self.infra_config.redis_nodes(),
                "VEIL_ID_HASH_KEY": keys["id_hash_key"],
                "VEIL_TELEGRAM_API_URL": self.api_url,
                "VEIL_SHUTDOWN_GRACE_SECONDS": "5",
                **self.seal_env(),
            }
        elif name == "gateway":
            env |= {
                "VEIL_HTTP_HOST": "127.0.0.1",
                "VEIL_HTTP_PORT": str(self.ports.gateway),
                "VEIL_PUBLIC_URL": self.public_url or self.gateway_url,
                "VEIL_TELEGRAM_API_URL": self.api_url,
                "VEIL_REDIS_NODES": self.infra_config.redis_nodes(),
                "VEIL_WEBHOOK_SECRET_KEY": keys["webhook_secret_key"],
                "VEIL_ID_HASH_KEY": keys["id_hash_key"],
            }
        elif name == "emulator":
            env |= {
                "VEIL_EMULATOR_HOST": "127.0.0.1",
                "VEIL_EMULATOR_PORT": str(self.ports.emulator),
            }
        elif name == "cli":
            env |= {
                "VEIL_CONFESSIONS_ADDR": f"127.0.0.1:{self.ports.confessions}",
                "VEIL_TELEGRAM_API_URL": self.api_url,
                **self.seal_env(),
            }
        # The services it calls, as the chart's values.yaml `components` says.
        for peer in calls().get(name, ()):
            env[f"VEIL_{peer.upper()}_ADDR"] = f"127.0.0.1:{getattr(self.ports, peer)}"
        return env | self.extra_env

    def _grpc_service_env(self, name: str, keys: dict[str, str]) -> dict[str, str]:
        """What a gRPC service adds: where it listens, its database and its keys."""
        role = SERVICE_ROLES[name]
        env = {
            "VEIL_GRPC_HOST": "127.0.0.1",
            "VEIL_GRPC_PORT": str(getattr(self.ports, name)),
            "VEIL_DB_PRIMARY_DSN": self.infra_config.pg_dsn(role),
            "VEIL_DB_REPLICA_DSN": self.infra_config.pg_dsn(role, replica=True),
            "VEIL_SHUTDOWN_GRACE_SECONDS": "5",
        }
        if name == "social":
            env["VEIL_PSEUDONYM_KEY"] = keys["pseudonym_key"]
        else:
            env |= self.seal_env()
        if name == "confessions":
            # Cooldowns and daily caps are counted in the Redis Cluster, per
            # protected subject (a keyed token that outlives /deleteme).
            env["VEIL_REDIS_NODES"] = self.infra_config.redis_nodes()
            env["VEIL_ID_HASH_KEY"] = keys["id_hash_key"]
        return env
