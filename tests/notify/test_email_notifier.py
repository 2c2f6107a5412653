"""The email channel against a real SMTP server on 127.0.0.1 (aiosmtpd): login, STARTTLS, refusals."""

from __future__ import annotations

import contextlib
import email
import email.policy
import logging
import socket
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from bot import messages
from bot.config.alerts import EmailChannel
from bot.errors import DeliveryError, PermanentDeliveryError
from bot.notify.base import OutboxMessage
from bot.notify.email import EmailNotifier
from tests.support.clock import FakeClock

PASSWORD = "correct-horse-battery-staple"
INCIDENT = {
    "id": 42,
    "fingerprint": "api-health|",
    "check": "api-health",
    "subject": "",
    "kind": "rule",
    "severity": "critical",
    "state": "open",
    "status": "critical",
    "summary": "HTTP 503 from http://127.0.0.1:5051/health",
    "values": {"status_code": 503.0},
    "opened_at": 1_700_000_000.0,
    "last_seen_at": 1_700_000_180.0,
    "resolved_at": None,
    "count": 4,
    "acked_by": None,
    "changes": [1_700_000_000.0],
    "runbook_url": "https://runbooks.example.org/api-health",
}
NOTICE = OutboxMessage(
    id=7,
    channel="email",
    kind="incident.notice",
    payload={
        "notice": "opened",
        "text": "Opened: HTTP 503 from http://127.0.0.1:5051/health",
        "mentions": [],
        "incident": INCIDENT,
    },
    attempts=1,
)


class Mailbox:
    """An aiosmtpd handler that keeps every message with whether it came over TLS and as whom."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.received.append(
            {
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "message": email.message_from_bytes(envelope.content, policy=email.policy.default),
                # STARTTLS sets session.ssl; implicit TLS shows on the transport only
                "tls": session.ssl is not None
                or server.transport.get_extra_info("ssl_object") is not None,
                "login": session.auth_data.login if session.auth_data else None,
            }
        )
        return "250 OK"


def authenticator(
    server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"alerts",
        PASSWORD.encode(),
    )
    # handled=False: aiosmtpd then sends the 535 itself
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def smtp_server(**options: Any) -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on 127.0.0.1, in aiosmtpd's own thread."""
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, ready_timeout=10, **options)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, as tests/checks/test_http_certificates.py makes."""
    folder = tmp_path_factory.mktemp("smtp-tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30"),
            *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


def settings(port: int, **changes: Any) -> EmailChannel:
    values = {"host": "127.0.0.1", "port": port, "tls": "none", "sender": "selfreg@example.org"}
    return EmailChannel(**{**values, "to": ["oncall@example.org"], **changes})


async def test_a_notice_is_mailed_with_the_incident_in_subject_and_body() -> None:
    with smtp_server() as (mailbox, port):
        await EmailNotifier(settings(port), None, clock=FakeClock()).deliver(NOTICE)
    [mail] = mailbox.received
    assert mail["from"] == "selfreg@example.org"
    assert mail["to"] == ["oncall@example.org"]
    message = mail["message"]
    assert message["Subject"] == (
        "[CRITICAL] api-health: Opened: HTTP 503 from http://127.0.0.1:5051/health"
    )
    assert message["Message-ID"] == "<selfreg.7.42.1700000000@example.org>"
    assert message.get_content().replace("\r\n", "\n") == (
        "Opened: HTTP 503 from http://127.0.0.1:5051/health\n"
        "\n"
        "Severity:     critical\n"
        "What:         api-health\n"
        "State:        open (status critical)\n"
        "First seen:   2023-11-14 22:13:20 UTC\n"
        "Last seen:    2023-11-14 22:16:20 UTC\n"
        "Failing runs: 4\n"
        "Summary:      HTTP 503 from http://127.0.0.1:5051/health\n"
        "Runbook:      https://runbooks.example.org/api-health\n"
        "\n"
        "Incident #42, sent by selfreg.\n"
    )


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_a_server_that_requires_login_accepts_the_configured_user() -> None:
    options = {"auth_required": True, "auth_require_tls": False, "authenticator": authenticator}
    with smtp_server(**options) as (mailbox, port):
        notifier = EmailNotifier(settings(port, username="alerts"), PASSWORD)
        await notifier.deliver(NOTICE)
    [mail] = mailbox.received
    assert mail["login"] == b"alerts"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_a_wrong_password_is_permanent_and_never_shown(caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    options = {"auth_required": True, "auth_require_tls": False, "authenticator": authenticator}
    with smtp_server(**options) as (mailbox, port):
        notifier = EmailNotifier(settings(port, username="alerts"), "wrong-horse-battery")
        with pytest.raises(PermanentDeliveryError) as raised:
            await notifier.deliver(NOTICE)
    assert mailbox.received == []
    assert raised.value.reason.startswith("the SMTP server refused with 535")
    for shown in (str(raised.value), repr(notifier), caplog.text):
        assert "wrong-horse-battery" not in shown


async def test_a_server_that_is_down_is_a_transient_failure() -> None:
    port = free_port()
    with pytest.raises(DeliveryError) as raised:
        await EmailNotifier(settings(port), None).deliver(NOTICE)
    assert not isinstance(raised.value, PermanentDeliveryError)
    assert raised.value.reason.startswith(f"cannot reach the SMTP server 127.0.0.1:{port}: ")


async def test_starttls_upgrades_the_connection_before_logging_in(certificate) -> None:
    options = {"tls_context": server_tls(certificate), "require_starttls": True}
    options |= {"auth_required": True, "authenticator": authenticator}  # auth only over TLS
    trusting = ssl.create_default_context(cafile=str(certificate[0]))
    with smtp_server(**options) as (mailbox, port):
        channel = settings(port, tls="starttls", username="alerts")
        await EmailNotifier(channel, PASSWORD, ssl_context=trusting).deliver(NOTICE)
    [mail] = mailbox.received
    assert mail["tls"] is True
    assert mail["login"] == b"alerts"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # it is TLS
async def test_implicit_tls_speaks_tls_from_the_first_byte_on_port_465_style(certificate) -> None:
    options = {"ssl_context": server_tls(certificate)}  # aiosmtpd: TLS on accept, as port 465
    # aiosmtpd offers AUTH only after its own STARTTLS unless told the socket is TLS already
    options |= {"auth_required": True, "authenticator": authenticator, "auth_require_tls": False}
    trusting = ssl.create_default_context(cafile=str(certificate[0]))
    with smtp_server(**options) as (mailbox, port):
        channel = settings(port, tls="implicit", username="alerts")
        await EmailNotifier(channel, PASSWORD, ssl_context=trusting).deliver(NOTICE)
        with pytest.raises(PermanentDeliveryError) as untrusted:  # no CA given: refused
            await EmailNotifier(settings(port, tls="implicit"), None).deliver(NOTICE)
    [mail] = mailbox.received
    assert mail["tls"] is True and mail["login"] == b"alerts"
    assert untrusted.value.reason.startswith("the certificate of 127.0.0.1 is not trusted")


def test_the_port_follows_the_tls_mode_unless_set() -> None:
    base = {"host": "smtp.example.org", "sender": "a@example.org", "to": ["b@example.org"]}
    assert EmailChannel(**base, tls="implicit").smtp_port == 465
    assert EmailChannel(**base).smtp_port == 587
    assert EmailChannel(**base, tls="implicit", port=2465).smtp_port == 2465


async def test_an_untrusted_certificate_is_a_permanent_failure(certificate) -> None:
    options = {"tls_context": server_tls(certificate), "require_starttls": True}
    with smtp_server(**options) as (mailbox, port), pytest.raises(PermanentDeliveryError) as raised:
        await EmailNotifier(settings(port, tls="starttls"), None).deliver(NOTICE)
    assert mailbox.received == []
    assert raised.value.reason.startswith("the certificate of 127.0.0.1 is not trusted")


async def test_a_server_without_starttls_is_refused_rather_than_sent_in_clear() -> None:
    with smtp_server() as (mailbox, port), pytest.raises(PermanentDeliveryError) as raised:
        await EmailNotifier(settings(port, tls="starttls"), None).deliver(NOTICE)
    assert mailbox.received == []
    assert "STARTTLS" in raised.value.reason


async def test_other_kinds_of_outbox_rows_are_not_mailed() -> None:
    with smtp_server() as (mailbox, port):
        sync = OutboxMessage(id=8, channel="email", kind="incident.sync", payload={}, attempts=1)
        await EmailNotifier(settings(port), None).deliver(sync)
    assert mailbox.received == []


def test_a_long_or_multi_line_subject_is_trimmed_to_one_line() -> None:
    subject = messages.email_subject("error", "disk /data", "Opened: " + "x" * 200 + "\nmore")
    assert subject.startswith("[ERROR] disk /data: Opened: xxx")
    assert len(subject) == 120 and subject.endswith("...") and "\n" not in subject
