"""Settings of the alert engine (ALERT_* variables); SMTP_* ones live in api/settings.py."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AlertSettings(BaseSettings):
    """How often rules are checked, who is told by default, and how many emails an hour at most."""

    model_config = SettingsConfigDict(
        env_prefix="ALERT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    enabled: bool = True
    interval_seconds: float = Field(default=30.0, gt=0)
    # Recipients of rules that name none (comma-separated in the environment).
    recipients: str = ""
    email_cap_per_hour: int = Field(default=30, ge=0)
    send_attempts: int = Field(default=10, ge=1)
    retry_base_seconds: float = Field(default=2.0, gt=0)
    retry_max_seconds: float = Field(default=300.0, gt=0)
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    error_rate_window_seconds: float = Field(default=300.0, gt=0)
    error_rate_min_requests: int = Field(default=20, ge=1)
    dashboard_url: str = ""
    # Set by `meterit demo` only: the folder its local mail sink stores emails in, which the API then lists.
    demo_mail_dir: str = ""

    @property
    def recipient_list(self) -> list[str]:
        """ALERT_RECIPIENTS as a list."""
        return [r.strip() for r in self.recipients.split(",") if r.strip()]


@lru_cache
def get_alert_settings() -> AlertSettings:
    """The process-wide alert settings (read once)."""
    return AlertSettings()
