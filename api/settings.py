"""Settings of the central API, from the environment and .env (names of the original design)."""

import os
import secrets
from functools import lru_cache
from ipaddress import ip_network
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from db.central.networks import Networks, normalize_networks, split_networks
from db.engine import normalize_url, postgres_url
from db.wire import DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE

DEFAULT_SECRET = "change-me-in-production"


class CentralSettings(BaseSettings):
    """Everything `meterit api` can be told; see .env.example for each variable."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "production"] = "development"
    port: int = 3001
    host: str = "127.0.0.1"
    database_url: str | None = None
    postgres_host: str | None = None
    postgres_port: int = 5432
    postgres_db: str = "meterit_client"
    postgres_user: str = "postgres"
    postgres_password: str | None = None
    sqlite_path: str = "data/central.db"
    jwt_secret: str = DEFAULT_SECRET
    jwt_secret_file: str = "data/jwt-secret"
    jwt_expire_minutes: int = 12 * 60
    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, ge=1, le=MAX_BATCH_SIZE)
    rate_limit_per_minute: int = Field(default=100, ge=1)
    failed_key_limit_per_minute: int = Field(default=30, ge=1)
    # Bearer token for /metrics (required in production: without it /metrics answers 403 there)
    metrics_token: str | None = None
    # TLS served by `meterit api --ssl-certfile`: 1.3 only unless set to "1.2" (old clients, meterit/tls.py)
    tls_min_version: Literal["1.2", "1.3"] = "1.3"
    # A rotated site key keeps working this long, or until the edge first uses the new key (0: at once).
    key_rotation_overlap_hours: float = Field(default=24.0, ge=0, le=24 * 30)
    redis_url: str | None = None
    offline_after_minutes: float = Field(default=0.75, gt=0)  # docs/operations.md
    degraded_queue_depth: int = 10_000
    max_query_depth: int = 12
    max_query_tokens: int = 4000
    max_aliases: int = 30
    # Websocket subscribers of the same document, variables and scope share one execution (api/realtime/fanout.py);
    # false runs one per subscriber (only to compare: `meterit bench live --compare-unshared`)
    shared_subscriptions: bool = True
    max_body_bytes: int = 4 * 1024 * 1024
    raw_retention_days: int = Field(default=400, ge=1)
    # Seconds queued uploads wait before the summary folds them, unless they fill a claim (docs/operations.md)
    rollup_settle_seconds: float = Field(default=60.0, ge=0, le=3600)
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "meterit@localhost"
    smtp_starttls: bool = False
    # Failed logins: free ones, then delays doubling from 1 s, then a lock (per account, per client address).
    login_free_failures: int = Field(default=5, ge=1)
    login_lock_failures: int = Field(default=10, ge=2)
    login_address_free_failures: int = Field(default=20, ge=1)
    login_address_lock_failures: int = Field(default=100, ge=2)
    login_lock_minutes: float = Field(default=15.0, gt=0)
    # GraphiQL at GET /graphql and schema introspection: on in development, off in production unless set.
    graphiql: bool | None = None
    introspection: bool | None = None
    # Comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed; default: none.
    trusted_proxies: str = ""
    log_dir: str | None = None
    log_level: str = "INFO"
    log_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    log_backup_count: int = Field(default=5, ge=1)
    log_max_age_days: float = Field(default=7.0, gt=0)

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> "CentralSettings":
        if self.environment != "development" and self.jwt_secret == DEFAULT_SECRET:
            raise ValueError("JWT_SECRET must be set to a secret value outside development")
        if self.environment != "development" and len(self.jwt_secret) < 32:
            raise ValueError("JWT_SECRET must have at least 32 characters outside development")
        self.trusted_proxy_networks  # noqa: B018  (a wrong entry stops the start, with its reason)
        if self.jwt_secret == DEFAULT_SECRET:
            # The placeholder is too short for HS256 (PyJWT's InsecureKeyLengthWarning): development gets a
            # random secret, kept in a file so that every worker and a restart accept the same tokens.
            self.jwt_secret = development_secret(Path(self.jwt_secret_file))
        return self

    @property
    def graphiql_enabled(self) -> bool:
        """GRAPHIQL, else on only in development."""
        return self.graphiql if self.graphiql is not None else self.environment == "development"

    @property
    def introspection_enabled(self) -> bool:
        """INTROSPECTION, else on only in development."""
        return self.introspection if self.introspection is not None else self.environment == "development"

    @property
    def trusted_proxy_networks(self) -> Networks:
        """TRUSTED_PROXIES as networks."""
        return tuple(ip_network(value) for value in normalize_networks(split_networks(self.trusted_proxies)))

    @property
    def db_url(self) -> str:
        """DATABASE_URL, else POSTGRES_* when POSTGRES_HOST is set, else the embedded SQLite file."""
        if self.database_url:
            return normalize_url(self.database_url)
        if self.postgres_host:
            return postgres_url(
                self.postgres_host,
                self.postgres_port,
                self.postgres_db,
                self.postgres_user,
                self.postgres_password,
            )
        return f"sqlite+aiosqlite:///{self.sqlite_path}"


def development_secret(path: Path) -> str:
    """The secret stored at path, created (64 hex characters, mode 600) by the first process that needs it."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32))
        try:
            os.link(draft, path)  # atomic: a concurrent worker either wins or reads the complete file
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    stored = path.read_text(encoding="ascii").strip()
    if len(stored) < 32:
        raise ValueError(f"{path} holds no usable JWT secret (fewer than 32 characters): delete it")
    return stored


@lru_cache
def get_settings() -> CentralSettings:
    """The process-wide settings (read once)."""
    return CentralSettings()
