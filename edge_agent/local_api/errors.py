"""Errors of the local API.

LocalApiError                 base of every error the local API raises itself
├── NotAuthenticated          a password is configured and the request carries no valid token
└── BadRequest                an argument the agent cannot act on (unknown meter or point, bad range)

Errors of the agent itself (edge_agent.errors.EdgeError) reach clients as GraphQL errors with their message.
"""


class LocalApiError(Exception):
    """Base of the local API's errors."""


class NotAuthenticated(LocalApiError):
    """The local API needs a login and the request has no valid token."""


class BadRequest(LocalApiError):
    """The request names something the agent does not know."""
