"""Exceptions of the alert package.

AlertError
└── EmailError              a message could not be handed to the SMTP server
    └── EmailNotConfigured  SMTP_HOST is not set, or there is no recipient
"""


class AlertError(Exception):
    """Base of every alert-package error."""


class EmailError(AlertError):
    """Sending an email failed (after retries, where retried)."""


class EmailNotConfigured(EmailError):
    """No SMTP server or no recipient: nothing can be sent."""
