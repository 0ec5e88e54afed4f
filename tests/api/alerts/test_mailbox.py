"""The demo's stored emails read back: sent over real SMTP to the local mail sink, then listed newest first."""

import aiosmtplib

from api.alerts.mailbox import stored_emails
from api.alerts.mailsink import LocalMailSink
from api.alerts.messages import plain_email


async def test_sent_emails_are_listed_newest_first_with_text(tmp_path):
    sink = LocalMailSink(tmp_path / "mail").start()
    try:
        for n in (1, 2):
            msg = plain_email(f"Alert {n}", f"Body {n}", "demo@localhost", ["ops@demo.local"])
            await aiosmtplib.send(msg, hostname=sink.host, port=sink.port, timeout=10)
    finally:
        sink.stop()
    (tmp_path / "mail" / "zz-broken.eml").write_bytes(b"\x00" * (600 * 1024))  # too big: skipped
    found = stored_emails(tmp_path / "mail")
    assert [e.subject for e in found] == ["Alert 2", "Alert 1"]
    assert found[0].recipients == "ops@demo.local" and found[0].text.strip() == "Body 2"
    assert found[0].sent_at is not None
    assert stored_emails(tmp_path / "missing") == []
