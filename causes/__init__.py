"""Every cause of a refusal the user or operator sees, with its one text: used by central, the edge and both dashboards.

A text is written here once; the API raises it (`text(Cause.X, ...)`), the dashboards recognise it
(`cause_of(message)`) to decide what the user must do (log in again, ask an admin), and tests compare against it.
This package imports nothing of the project, so every deployable and dashboard may use it.
"""

from enum import StrEnum


class Cause(StrEnum):
    """Why something was refused."""

    NOT_AUTHENTICATED = "not_authenticated"  # a login is needed (central user token, edge local password)
    TOKEN_INVALID = "token_invalid"  # a token that is forged, expired or for an unknown user
    SESSION_ENDED = "session_ended"  # the user logged out or was disabled: the token is revoked
    ADMIN_REQUIRED = "admin_required"
    SITE_KEY_REQUIRED = "site_key_required"
    SITE_KEY_INVALID = "site_key_invalid"
    MCP_TOKEN_MISSING = "mcp_token_missing"
    MCP_TOKEN_WRONG = "mcp_token_wrong"
    CENTRAL_UNREACHABLE = "central_unreachable"
    UNKNOWN_SITE = "unknown_site"
    UNKNOWN_METER = "unknown_meter"
    INVALID_METER_CONFIG = "invalid_meter_config"
    DEVICE_ID_NOT_INTEGER = "device_id_not_integer"
    NOT_SAVED = "not_saved"


# Each text starts with fixed words (up to a colon or a {detail}) by which cause_of() recognises it.
TEXTS: dict[Cause, str] = {
    Cause.NOT_AUTHENTICATED: "not authenticated: log in",
    Cause.TOKEN_INVALID: "invalid or expired token",
    Cause.SESSION_ENDED: "session ended: log in again",
    Cause.ADMIN_REQUIRED: "forbidden: admin role required",
    Cause.SITE_KEY_REQUIRED: "a valid X-API-Key header is required",
    Cause.SITE_KEY_INVALID: "invalid API key",
    Cause.MCP_TOKEN_MISSING: "not authorised: set METERIT_MCP_TOKEN (or send Authorization: Bearer over HTTP)",
    Cause.MCP_TOKEN_WRONG: "not authorised: send Authorization: Bearer <METERIT_MCP_TOKEN>",
    Cause.CENTRAL_UNREACHABLE: "The central server cannot be reached.",
    Cause.UNKNOWN_SITE: "no site with id {site_id}",
    Cause.UNKNOWN_METER: "unknown meter {meter!r}",
    Cause.INVALID_METER_CONFIG: "invalid meter configuration: {reason}",
    Cause.DEVICE_ID_NOT_INTEGER: "the BACnet device id must be a whole number (got {device!r})",
    Cause.NOT_SAVED: "Not saved: {reason}",
}
# The causes after which the user must log in (again).
LOGIN_CAUSES = frozenset({Cause.NOT_AUTHENTICATED, Cause.TOKEN_INVALID, Cause.SESSION_ENDED})


def text(cause: Cause, **details: object) -> str:
    """The text of a cause with its details filled in."""
    return TEXTS[cause].format(**details)


def _fixed(cause: Cause) -> str:
    return TEXTS[cause].split("{", 1)[0].strip().lower()


def cause_of(message: str) -> Cause | None:
    """The cause a refusal's message names (its fixed words, else those up to a colon, anywhere in it), or None."""
    lowered = message.lower()
    whole = next((cause for cause in Cause if _fixed(cause) in lowered), None)
    return whole or next((cause for cause in Cause if _fixed(cause).split(":", 1)[0] in lowered), None)
