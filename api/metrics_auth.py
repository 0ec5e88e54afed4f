"""Who may scrape /metrics: anyone in development without METRICS_TOKEN, else only `Bearer <METRICS_TOKEN>`."""

import hmac

from api.auth import bearer_token


def metrics_refusal(settings, authorization: str | None) -> tuple[int, str] | None:
    """(HTTP status, text) refusing a scrape, or None to serve it."""
    expected = settings.metrics_token
    if not expected:
        if settings.environment == "development":
            return None
        return 403, "/metrics is off: set METRICS_TOKEN and scrape with Authorization: Bearer <token>"
    given = bearer_token(authorization) or ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        return 401, "Authorization: Bearer <METRICS_TOKEN> required"
    return None
