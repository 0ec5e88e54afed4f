"""Errors of the on-site dashboard.

UiEdgeError                   base of every error the dashboard raises itself
├── AgentUnreachable          the local API does not answer: the edge agent is stopped (or starting)
├── NotAuthenticated          the local API wants a login (a password is set) and the token is missing or stale
└── ApiError                  the API answered with a GraphQL error; its message is shown to the technician
"""


class UiEdgeError(Exception):
    """Base of the dashboard's errors."""


class AgentUnreachable(UiEdgeError):
    """The edge agent's local API could not be reached."""


class NotAuthenticated(UiEdgeError):
    """The local API needs a login."""


class ApiError(UiEdgeError):
    """The local API refused the operation."""
