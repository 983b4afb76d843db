"""Settings of the gateway (``VEIL_*`` environment variables)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from veil.core.settings import CommonSettings


class GatewaySettings(CommonSettings):
    """The webhook gateway: HTTP in, gRPC to the services, Bot API out."""

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=1, le=65535)
    public_url: str = Field(
        description="Base URL Telegram reaches the gateway at; webhooks are "
        "<public_url>/webhook/<community id>."
    )
    telegram_api_url: str = Field(
        default="https://api.telegram.org",
        description="Bot API base URL; the emulator's URL for local runs and tests.",
    )
    confessions_addr: str = Field(description="gRPC target of the confessions service.")
    social_addr: str = Field(description="gRPC target of the social service.")
    redis_nodes: str = Field(description="Redis Cluster startup nodes, host:port,…")
    webhook_secret_key: SecretStr = Field(
        description="Key the per-community webhook secret tokens are derived from."
    )
    id_hash_key: SecretStr = Field(
        description="Key that turns Telegram ids into opaque Redis keys."
    )
    webhook_max_connections: int = Field(default=40, ge=1, le=100)
    max_update_bytes: int = Field(default=256 * 1024, ge=1024)
    max_updates_in_flight: int = Field(
        default=512,
        ge=1,
        le=4096,
        description="Updates handled at once; more wait in line (their HTTP requests stay open).",
    )
    update_deadline_seconds: float = Field(default=20.0, gt=0, lt=60)
    dedupe_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    rate_limit_burst: int = Field(
        default=10, ge=1, description="Updates a member may send at once."
    )
    rate_limit_per_minute: int = Field(
        default=30, ge=1, description="Sustained updates per minute per member."
    )
    fsm_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    admin_cache_seconds: int = Field(
        default=60,
        ge=1,
        le=3600,
        description="How long an admin-chat membership answer (getChatMember) is cached.",
    )
    community_refresh_seconds: float = Field(default=30.0, gt=0)
    set_webhooks: bool = Field(
        default=True,
        description="Call setWebhook and setMyCommands for every new or changed community.",
    )
    miniapp_init_data_max_age_seconds: int = Field(
        default=24 * 3600,
        ge=60,
        le=7 * 24 * 3600,
        description="How old a Mini App's initData (auth_date) may be before it is refused.",
    )

    @property
    def redis_connections_per_node(self) -> int:
        """The Redis pool per cluster node: enough that no update waits for one.

        redis-py's cluster client refuses a command when a node's pool is used
        up (``MaxConnectionsError``) rather than waiting for a connection, and
        every key of an update lives on one node (its hash tag). An update
        holds at most two connections at once (a thread's and the rules' cards,
        read together); the Mini App and the community registry use a few more.
        """
        return 2 * self.max_updates_in_flight + 32
