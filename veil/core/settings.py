"""Settings shared by every Veil process, read from ``VEIL_*`` environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class TelemetrySettings(BaseSettings):
    """Traces, metrics and the pod identity they are tagged with (veil.core.telemetry)."""

    model_config = SettingsConfigDict(env_prefix="VEIL_", extra="ignore")

    otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/gRPC collector (http://host:4317); no traces are exported when "
        "unset (and, without trace_file, nothing is instrumented).",
    )
    trace_file: str | None = Field(
        default=None, description="Also write finished spans here, one JSON object per line."
    )
    trace_sample_ratio: float = Field(
        default=1.0,
        ge=0,
        le=1,
        description="Share of new traces kept (parent-based: a sampled caller's trace is "
        "always followed).",
    )
    metrics_host: str = Field(default="127.0.0.1", description="Where /metrics listens.")
    metrics_port: int = Field(default=9100, ge=0, le=65535, description="0: an ephemeral port.")
    pod_name: str | None = Field(default=None, description="k8s.pod.name (downward API).")
    pod_namespace: str | None = Field(
        default=None, description="k8s.namespace.name (downward API)."
    )


class CommonSettings(TelemetrySettings):
    """Settings every process has: identity, logging and telemetry."""

    model_config = SettingsConfigDict(env_prefix="VEIL_", extra="ignore")

    log_level: str = Field(default="INFO", description="Root log level.")
    environment: str = Field(default="local", description="Deployment name, shown in logs.")


class DatabaseSettings(BaseSettings):
    """Postgres connection settings of one service's own schema."""

    model_config = SettingsConfigDict(env_prefix="VEIL_", extra="ignore")

    db_primary_dsn: SecretStr = Field(description="SQLAlchemy DSN of the primary.")
    db_replica_dsn: SecretStr | None = Field(
        default=None, description="DSN of the read replica; reads use the primary when unset."
    )
    db_pool_size: int = Field(
        default=20,
        ge=1,
        le=200,
        description="Connections per engine, all kept open: sized to the calls a process "
        "handles at once, so no connection is opened and closed per burst.",
    )
    db_statement_timeout_ms: int = Field(default=5000, ge=100)
    db_replica_retry_seconds: float = Field(
        default=5.0,
        ge=0,
        description="After the replica failed, reads go to the primary this long before "
        "the replica is tried again.",
    )


class GrpcServerSettings(BaseSettings):
    """Where a gRPC service listens and how long it drains on shutdown."""

    model_config = SettingsConfigDict(env_prefix="VEIL_", extra="ignore")

    grpc_host: str = "127.0.0.1"
    grpc_port: int = Field(default=50051, ge=1, le=65535)
    shutdown_grace_seconds: float = Field(default=10.0, ge=0)


class ServiceSettings(CommonSettings, DatabaseSettings, GrpcServerSettings):
    """Everything a gRPC service backed by Postgres needs."""

    relay_linger_seconds: float = Field(
        # Cards and follow-ups are not waited on by anyone: 0.2 s lets a busy
        # service send several per call (0.05 s halved the batches in the bench).
        default=0.2,
        ge=0,
        le=5,
        description="How long a relay (veil/core/relay.py) waits for more calls before "
        "it sends a batch.",
    )
