"""The notifier against a local SMTP server that demands STARTTLS and a login, as production servers do."""

import ssl

import pytest
import trustme
from aiosmtpd.smtp import AuthResult, LoginPassword

from api.alerts.errors import EmailError, EmailNotConfigured
from api.alerts.messages import plain_email
from api.alerts.notifier import EmailNotifier
from api.settings import CentralSettings
from tests.api.alerts.conftest import alert_settings
from tests.support.smtp import SmtpSink, bodies


def accept(server, session, envelope, mechanism, auth_data) -> AuthResult:
    """Only meterit / s3cret may send."""
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"meterit",
        b"s3cret",
    )
    return AuthResult(success=ok)


@pytest.fixture
def tls_sink():
    """A sink requiring STARTTLS (certificate of a throwaway CA) and AUTH."""
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    sink = SmtpSink(
        tls_context=server_context, require_starttls=True, authenticator=accept, auth_required=True
    )
    sink.start()
    yield sink, client_context
    sink.stop()


def settings(sink, password: str) -> CentralSettings:
    """SMTP_* for the TLS sink."""
    return CentralSettings(
        _env_file=None,
        smtp_host=sink.host,
        smtp_port=sink.port,
        smtp_user="meterit",
        smtp_password=password,
        smtp_starttls=True,
        smtp_from="alerts@meterit.test",
    )


async def test_starttls_and_login(tls_sink):
    sink, trust = tls_sink
    sender = EmailNotifier(settings(sink, "s3cret"), alert_settings(), tls_context=trust)
    await sender.deliver(
        plain_email("TLS check", "Line one.\n\nLine two.", "alerts@meterit.test", ["a@b.test"])
    )
    [mail] = sink.messages
    text, html = bodies(mail)
    assert mail["Subject"] == "TLS check" and "Line two." in text and "<p>Line two.</p>" in html


async def test_a_refused_recipient_is_not_retried():
    sink = SmtpSink(refuse={"gone@b.test"}).start()
    try:
        smtp = CentralSettings(_env_file=None, smtp_host=sink.host, smtp_port=sink.port)
        sender = EmailNotifier(smtp, alert_settings(send_attempts=5, retry_base_seconds=5))
        with pytest.raises(EmailError, match="550"):
            await sender.deliver(plain_email("x", "y", "alerts@meterit.test", ["gone@b.test"]))
        sender.start()
        assert sender.enqueue(plain_email("x", "y", "alerts@meterit.test", ["gone@b.test"]))
        await sender.drain(timeout=4)  # a retry would sleep 5 s first
        assert (sender.sent, sender.failed, sink.messages) == (0, 1, [])
        await sender.stop()
    finally:
        sink.stop()


async def test_without_smtp_host_nothing_is_sent():
    sender = EmailNotifier(CentralSettings(_env_file=None), alert_settings())
    assert sender.enqueue(plain_email("x", "y", "a@b.test", ["c@d.test"])) is False
    with pytest.raises(EmailNotConfigured):
        await sender.deliver(plain_email("x", "y", "a@b.test", ["c@d.test"]))


async def test_demo_mail_sink_stores_eml_files(tmp_path):
    from api.alerts.mailsink import LocalMailSink

    sink = LocalMailSink(tmp_path / "mail").start()
    try:
        smtp = CentralSettings(_env_file=None, smtp_host=sink.host, smtp_port=sink.port)
        await EmailNotifier(smtp, alert_settings()).deliver(
            plain_email("Demo", "Body.", "a@b.test", ["c@d.test"])
        )
        [mail] = sink.messages()
        assert mail["Subject"] == "Demo" and mail["To"] == "c@d.test"
    finally:
        sink.stop()
