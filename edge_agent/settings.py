"""Settings of the edge agent, from the environment and .env (names of the original design)."""

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from db.engine import normalize_url, postgres_url
from db.wire import DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE
from edge_agent.key_file import holds_key, key_file_path, read_key, refuse_shared

BBMD_FORM = re.compile(r"^(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?$")


class EdgeSettings(BaseSettings):
    """Everything `meterit edge` can be told; see edge_agent/.env.example for each variable."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "production"] = "development"
    client_api_url: str = "http://127.0.0.1:3001/graphql"
    client_api_key: str | None = None
    # A file holding the key alone (e.g. a systemd credential: a bare name lies in $CREDENTIALS_DIRECTORY).
    client_api_key_file: str | None = None
    client_ca_file: str | None = None
    sync_interval_minutes: float = Field(default=5.0, gt=0)
    sync_interval_seconds: float | None = Field(default=None, gt=0)
    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, ge=1, le=MAX_BATCH_SIZE)
    max_retries: int = Field(default=5, ge=0)
    collection_interval_seconds: float = Field(default=60.0, gt=0)
    heartbeat_interval_seconds: float = Field(default=15.0, gt=0)  # docs/operations.md
    config_refresh_seconds: float = Field(default=300.0, gt=0)
    central_unreachable_alert_minutes: float = Field(default=15.0, gt=0)
    meter_unreachable_alert_minutes: float = Field(default=5.0, gt=0)
    queue_alert_depth: int = Field(default=10_000, ge=1)
    bacnet_interface: str = "127.0.0.1/8"
    bacnet_port: int = Field(default=47808, ge=1, le=65535)
    bacnet_broadcast_address: str = "127.255.255.255"
    bacnet_timeout_seconds: float = Field(default=2.0, gt=0)
    bacnet_max_timeout_seconds: float = Field(default=8.0, gt=0)
    bacnet_retries: int = Field(default=1, ge=0, le=5)
    bacnet_reprobe_minutes: float = Field(default=60.0, gt=0)
    bacnet_bbmd_address: str | None = None
    bacnet_bbmd_ttl: int = Field(default=300, ge=5, le=65535)
    bacnet_routes: str = ""
    bacnet_max_concurrency_per_device: int = Field(default=4, ge=1, le=64)
    bacnet_max_concurrent_devices: int = Field(default=32, ge=1, le=1024)
    bacnet_device_id: int = Field(default=3_999_001, ge=0, le=4_194_302)
    upload_pipeline: int = Field(default=3, ge=1, le=16)
    backoff_base_seconds: float = Field(default=1.0, gt=0)
    backoff_max_seconds: float = Field(default=60.0, gt=0)
    http_timeout_seconds: float = Field(default=30.0, gt=0)
    housekeeping_interval_seconds: float = Field(default=3600.0, gt=0)
    vacuum_interval_hours: float = Field(default=168.0, gt=0)
    sync_log_retention_days: float = Field(default=30.0, gt=0)
    recent_retention_hours: float = Field(default=24.0, gt=0)
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=9102, ge=0, le=65535)
    meters_file: str = "config/meters.json"
    database_url: str | None = None
    local_postgres_host: str | None = None
    local_postgres_port: int = 5432
    local_postgres_db: str = "meterit_sync"
    local_postgres_user: str = "postgres"
    local_postgres_password: str | None = None
    sqlite_path: str = "data/edge.db"
    outbox_max_readings: int = Field(default=5_000_000, ge=1000)
    outbox_full_policy: Literal["drop_oldest", "stop_collecting"] = "stop_collecting"
    local_api_host: str = "127.0.0.1"
    local_api_port: int = 3002
    local_api_password: str | None = None
    # Without LOCAL_API_PASSWORD: the argon2 hash of a password generated at first start (printed once;
    # `meterit edge local-password` makes a new one).
    local_api_password_file: str = "data/local-api-password"
    # Extra names (comma-separated) the local API answers to in Host/Origin, besides IP literals and
    # localhost, e.g. the edge's DNS name when it is reached through it (DNS-rebinding guard).
    local_api_allowed_hosts: str = ""
    log_dir: str = "logs"
    log_level: str = "INFO"
    log_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    log_backup_count: int = Field(default=5, ge=1)
    log_max_age_days: float = Field(default=7.0, gt=0)

    @model_validator(mode="after")
    def _read_key_file(self) -> "EdgeSettings":
        path = key_file_path(self.client_api_key_file)
        if path is None:
            if self.environment == "production" and self.client_api_key:
                self._refuse_shared_env_file()
            return self
        if self.client_api_key:
            raise ValueError(f"set CLIENT_API_KEY or CLIENT_API_KEY_FILE ({path}), not both")
        if self.environment == "production":
            refuse_shared(path, "the site key file")
        self.client_api_key = read_key(path)
        return self

    def _refuse_shared_env_file(self) -> None:
        if any(name.upper() == "CLIENT_API_KEY" for name in os.environ):
            return  # set by the service manager, not read from a file here
        env_file = self.model_config.get("env_file")
        if isinstance(env_file, str | Path) and holds_key(Path(env_file)):
            refuse_shared(Path(env_file).resolve(), "the .env file holding CLIENT_API_KEY")

    @model_validator(mode="after")
    def _refuse_missing_secrets(self) -> "EdgeSettings":
        if self.environment != "development" and not self.client_api_key:
            raise ValueError("CLIENT_API_KEY or CLIENT_API_KEY_FILE must be set outside development")
        if self.environment != "development" and self.client_api_url.startswith("http://"):
            raise ValueError("CLIENT_API_URL must use https:// outside development")
        if self.bacnet_broadcast_address.split(":")[0] in ("255.255.255.255", "0.0.0.0"):
            raise ValueError(
                "BACNET_BROADCAST_ADDRESS must be the meters' subnet broadcast (e.g. x.y.z.255), "
                "not the global broadcast"
            )
        if self.bacnet_bbmd_address and not BBMD_FORM.match(self.bacnet_bbmd_address.strip()):
            raise ValueError("BACNET_BBMD_ADDRESS must be the BBMD's ip or ip:port")
        self.routes  # noqa: B018  (validates BACNET_ROUTES)
        return self

    @property
    def sync_interval(self) -> float:
        """Seconds between upload cycles (SYNC_INTERVAL_SECONDS wins over SYNC_INTERVAL_MINUTES)."""
        return self.sync_interval_seconds or self.sync_interval_minutes * 60

    @property
    def who_is_broadcast(self) -> str:
        """Where a broadcast Who-Is goes: BACNET_BROADCAST_ADDRESS, on port 47808 unless it names one."""
        address = self.bacnet_broadcast_address.strip()
        return address if ":" in address else f"{address}:47808"

    @property
    def routes(self) -> dict[int, str]:
        """BACNET_ROUTES 'network=router-ip[:port],...' as {network: router address}."""
        routes: dict[int, str] = {}
        for item in filter(None, (part.strip() for part in self.bacnet_routes.split(","))):
            network, _, router = item.partition("=")
            if (
                not network.strip().isdigit()
                or not 1 <= int(network) <= 65534
                or not BBMD_FORM.match(router.strip())
            ):
                raise ValueError(
                    f"BACNET_ROUTES entry {item!r} must be network=router-ip[:port], e.g. 5=127.0.0.1:47808"
                )
            routes[int(network)] = router.strip()
        return routes

    @property
    def db_url(self) -> str:
        """DATABASE_URL, else LOCAL_POSTGRES_* when its host is set, else the SQLite file."""
        if self.database_url:
            return normalize_url(self.database_url)
        if self.local_postgres_host:
            return postgres_url(
                self.local_postgres_host,
                self.local_postgres_port,
                self.local_postgres_db,
                self.local_postgres_user,
                self.local_postgres_password,
            )
        return f"sqlite+aiosqlite:///{self.sqlite_path}"


@lru_cache
def get_settings() -> EdgeSettings:
    """The process-wide settings (read once)."""
    return EdgeSettings()
