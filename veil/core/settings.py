"""Settings shared by every Veil process, read from ``VEIL_*`` environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class CommonSettings(BaseSettings):
    """Settings every process has: identity and logging."""

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
    db_pool_size: int = Field(default=10, ge=1, le=200)
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
