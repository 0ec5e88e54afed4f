"""Errors of the central dashboard.

UiClientError                 base of every error the dashboard raises itself
 ├── ApiUnreachable           the central API could not be reached or failed (refused, timeout, 5xx)
 ├── NotAuthenticated         no token, an expired token, or a token the API refused: back to login
 └── ApiError                 the API answered with a GraphQL error; its message is shown to the user
      └── Forbidden           the API refused for lack of the admin role
"""


class UiClientError(Exception):
    """Base of the dashboard's errors."""


class ApiUnreachable(UiClientError):
    """The central API could not be reached or answered with a server error."""


class NotAuthenticated(UiClientError):
    """The session has no valid token; the user must log in again."""


class ApiError(UiClientError):
    """The API refused the operation with a GraphQL error."""


class Forbidden(ApiError):
    """The operation needs the admin role."""
