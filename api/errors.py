"""Exceptions of the central API.

ApiError                      an expected rejection: answered without a traceback in the log
├── AuthError                 no or wrong credentials (HTTP 401 for site keys)
│   └── SiteKeyRequired       an edge operation called without a valid X-API-Key
├── Forbidden                 authenticated, but not allowed (viewer on an admin mutation, site key on dashboards)
├── InvalidInput              arguments that cannot be served (bad time range, unknown role, ...)
├── NotFoundError             the object asked for does not exist
└── BatchRefused              a whole upload refused (answered as UploadRejected)
"""


class ApiError(Exception):
    """Base of every expected rejection of the central API."""


class AuthError(ApiError):
    """Missing or wrong credentials."""


class SiteKeyRequired(AuthError):
    """An edge operation needs the site's X-API-Key header."""


class Forbidden(ApiError):
    """The caller is known but may not do this."""


class InvalidInput(ApiError):
    """The arguments cannot be served."""


class NotFoundError(ApiError):
    """No such object."""


class BatchRefused(ApiError):
    """A whole upload refused (malformed, too big): nothing was written."""
