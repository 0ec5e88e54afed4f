"""demoEmails: the alert emails `meterit demo` sent, as its local mail sink stored them (off elsewhere)."""

import strawberry
from strawberry.types import Info

from api.alerts.mailbox import StoredEmail, stored_emails
from api.alerts.settings import get_alert_settings
from api.schema.permissions import IsAdmin


@strawberry.type
class DemoEmail(StoredEmail):
    """One email the demo's mail sink received (the fields of api/alerts/mailbox.StoredEmail)."""

    @classmethod
    def of(cls, stored: StoredEmail) -> "DemoEmail":
        """From a stored email."""
        return cls(**vars(stored))


@strawberry.type
class DemoMailbox:
    """`enabled` is false outside the demo (no mail sink is kept; alerts go to a real SMTP server)."""

    enabled: bool
    emails: list[DemoEmail]


@strawberry.type
class DemoMailQuery:
    """The demo's sent emails."""

    @strawberry.field(permission_classes=[IsAdmin])
    def demo_emails(self, info: Info, limit: int = 100) -> DemoMailbox:
        """The newest emails the demo sent (ALERT_DEMO_MAIL_DIR), newest first."""
        folder = get_alert_settings().demo_mail_dir
        if not folder:
            return DemoMailbox(enabled=False, emails=[])
        return DemoMailbox(enabled=True, emails=[DemoEmail.of(e) for e in stored_emails(folder, limit)])
