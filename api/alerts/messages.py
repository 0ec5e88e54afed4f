"""Alert emails: a subject that says what and where, a plain-text body and the same as HTML."""

import html
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from db.clock import utcnow

OPENED, RESOLVED, REPORTED = "opened", "resolved", "reported"
STATUS = {OPENED: "OPEN", RESOLVED: "RESOLVED", REPORTED: "ENDED"}
INTRO = {
    OPENED: "An alert was raised.",
    RESOLVED: "The condition has cleared; the alert is resolved.",
    REPORTED: "An alert condition was reported after it had ended (it could not be reported while it lasted).",
}


def _when(ts: datetime | None) -> str:
    return ts.strftime("%Y-%m-%d %H:%M:%S UTC") if ts else "-"


def subject_of(event: str, alert) -> str:
    """E.g. `[MeterIT] ALERT critical: Site A: not heard from for 12 min` or `[MeterIT] RESOLVED: ...`."""
    head = "RESOLVED" if event == RESOLVED else f"ALERT {alert.severity}"
    return f"[MeterIT] {head}: {alert.message}"[:250]


def alert_email(
    event: str, alert, site_name: str | None, sender: str, recipients: list[str], dashboard_url: str = ""
) -> EmailMessage:
    """The email telling recipients that an alert opened or resolved (text and HTML alternatives)."""
    rows = [
        ("Status", STATUS[event]),
        ("Alert", alert.message),
        ("Kind", alert.kind),
        ("Severity", alert.severity),
        ("Site", site_name or "-"),
        ("Opened", _when(alert.opened_at)),
    ]
    if event != OPENED:
        rows.append(("Resolved", _when(alert.resolved_at)))
    if alert.id is not None:
        rows.append(("Alert id", str(alert.id)))
    intro = INTRO[event]
    text = [intro, ""] + [f"{name}: {value}" for name, value in rows]
    cells = "".join(
        f"<tr><th align='left'>{html.escape(n)}</th><td>{html.escape(v)}</td></tr>" for n, v in rows
    )
    link = ""
    if dashboard_url:
        text += ["", f"Dashboard: {dashboard_url}"]
        link = f"<p><a href='{html.escape(dashboard_url)}'>Open the dashboard</a></p>"
    msg = EmailMessage()
    msg["Subject"] = subject_of(event, alert)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Message-ID"] = make_msgid(domain="meterit")
    msg["Date"] = format_datetime(utcnow())
    msg.set_content("\n".join(text) + "\n")
    msg.add_alternative(
        f"<html><body><p>{html.escape(intro)}</p><table>{cells}</table>{link}</body></html>", subtype="html"
    )
    return msg


def plain_email(subject: str, body: str, sender: str, recipients: list[str]) -> EmailMessage:
    """A free-form message (the MCP tool send_alert_email), with the body also as simple HTML."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Message-ID"] = make_msgid(domain="meterit")
    msg["Date"] = format_datetime(utcnow())
    msg.set_content(body + "\n")
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in body.split("\n\n"))
    msg.add_alternative(f"<html><body>{paragraphs}</body></html>", subtype="html")
    return msg
