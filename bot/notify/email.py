"""The email channel: one plain-text mail per loud incident event, over SMTP.

The stdlib ``smtplib`` client runs in a worker thread (``asyncio.to_thread``) so a slow
server never stalls the event loop. Errors are classed by their SMTP reply code (RFC 5321:
4yz is transient, 5yz permanent); the password never reaches a reason or a log line.
"""

from __future__ import annotations

import asyncio
import email.policy
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from bot import messages
from bot.clock import Clock, SystemClock
from bot.config.alerts import EmailChannel
from bot.errors import DeliveryError, PermanentDeliveryError
from bot.notify.base import OutboxMessage

log = logging.getLogger(__name__)

TIMEOUT = 10.0  # seconds per SMTP operation (connect, each command)
# Fold only past RFC 5322's hard limit: at the usual 78, a subject of 70 to 77 characters moves
# whole to a continuation line, which some readers (Python's own parser too) show with a
# leading space.
POLICY = email.policy.SMTP.clone(max_line_length=998)


class EmailNotifier:
    """Sends incident notices to ``settings.to``; TLS (STARTTLS or implicit) and login as the
    settings say."""

    name = "email"

    def __init__(
        self,
        settings: EmailChannel,
        password: str | None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self._password = password
        self._ssl_context = ssl_context or ssl.create_default_context()
        self.clock = clock or SystemClock()

    def __repr__(self) -> str:  # no password in reprs, tracebacks with locals, or debuggers
        return f"EmailNotifier(host={self.settings.host!r}, port={self.settings.smtp_port})"

    async def deliver(self, message: OutboxMessage) -> None:
        """Send one mail; ``DeliveryError`` or ``PermanentDeliveryError`` as ``judge`` classes it."""
        if message.kind != "incident.notice":
            return
        if self.settings.username and not self._password:
            # Nothing to retry with until the operator sets the variable and restarts.
            raise PermanentDeliveryError(self.name, messages.smtp_password_missing())
        mail = self.build(message)
        try:
            refused = await asyncio.to_thread(self._send, mail)
        except (smtplib.SMTPException, OSError) as exc:
            raise self._classify(exc) from None  # the scrubbed reason says it all
        if refused:  # some recipients took it; retrying would send them a duplicate
            log.warning(messages.row_recipients_refused(message.id, sorted(refused)))
        log.info(messages.row_mailed(message.id, self.settings.to))

    def build(self, message: OutboxMessage) -> EmailMessage:
        """The mail for one notice.

        ``Message-ID`` stays the same across retries, so a mail whose "250 OK" was lost and
        is sent again shows up as the duplicate it is; ``References`` threads an incident's
        mails together in mail clients.
        """
        payload, incident = message.payload, message.payload["incident"]
        thread = f"{incident['id']}.{int(incident['opened_at'])}"
        what = messages.subject_label(incident["check"], incident["subject"])
        domain = self.settings.sender.rpartition("@")[2] or "selfreg.invalid"
        mail = EmailMessage(policy=POLICY)
        mail["Subject"] = messages.email_subject(incident["severity"], what, payload["text"])
        mail["From"] = self.settings.sender
        mail["To"] = ", ".join(self.settings.to)
        mail["Date"] = formatdate(self.clock.now(), usegmt=True)
        mail["Message-ID"] = f"<selfreg.{message.id}.{thread}@{domain}>"
        mail["References"] = f"<selfreg.incident.{thread}@{domain}>"
        mail["X-Selfreg-Incident"] = str(incident["id"])
        mail.set_content(messages.email_body(payload["text"], incident))
        return mail

    def _send(self, mail: EmailMessage) -> dict[str, tuple[int, bytes]]:
        """Blocking: connect (TLS at once when implicit), upgrade, log in, send; the
        recipients refused (others got it)."""
        settings = self.settings
        if settings.tls == "implicit":
            connect: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.smtp_port, timeout=TIMEOUT, context=self._ssl_context
            )
        else:
            connect = smtplib.SMTP(settings.host, settings.smtp_port, timeout=TIMEOUT)
        with connect as smtp:
            smtp.ehlo()
            if settings.tls == "starttls":
                smtp.starttls(context=self._ssl_context)  # refuses when not offered: no clear text
                smtp.ehlo()
            if settings.username:
                smtp.login(settings.username, self._password or "")
            return smtp.send_message(mail)

    def _classify(self, exc: OSError) -> DeliveryError:
        """Transient or permanent (see ``judge``), with the password scrubbed from the reason."""
        permanent, reason = judge(exc, self.settings.host, self.settings.smtp_port)
        kind = PermanentDeliveryError if permanent else DeliveryError
        return kind(self.name, self._scrub(reason))

    def _scrub(self, text: str) -> str:
        """Belt and braces: a server that echoes the password does not get it into the log."""
        return text.replace(self._password, "***") if self._password else text


def judge(exc: OSError, host: str, port: int) -> tuple[bool, str]:
    """Whether an SMTP failure is permanent, and the reason an operator reads."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = {
            who: (code, text.decode(errors="replace"))
            for who, (code, text) in exc.recipients.items()
        }
        # Every address refused with 5yz (no such mailbox) stays refused; when all refusals
        # are 4yz (greylisting, a full mailbox) they clear by themselves.
        permanent = not all(400 <= code < 500 for code, _ in refused.values())
        return permanent, messages.smtp_recipients_refused(refused)
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error
        text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
        # 5yz will not change on retry, an operator must fix the settings: 535 bad credentials
        # (SMTPAuthenticationError), 550/553 sender not allowed (SMTPSenderRefused), 554 at
        # connect. 4yz (421 busy, 451 local error, 454 auth unavailable for now) and garbled
        # replies are the server's passing trouble.
        return 500 <= exc.smtp_code < 600, messages.smtp_refused(exc.smtp_code, text)
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        # The server lacks STARTTLS or AUTH that the settings require; falling back to clear
        # text would be the wrong fix, so an operator decides.
        return True, messages.smtp_unsupported(host, messages.error_text(exc))
    if isinstance(exc, ssl.SSLCertVerificationError):
        # An untrusted or wrong-host certificate is a setting or a server to fix, not a blip.
        return True, messages.certificate_untrusted(host, exc.verify_message or str(exc))
    if isinstance(exc, smtplib.SMTPServerDisconnected) or not isinstance(
        exc, smtplib.SMTPException
    ):
        # Refused or reset connections, DNS failures, timeouts, dropped sessions and other
        # TLS trouble: the network or the server is down for now.
        return False, messages.smtp_unreachable(host, port, messages.error_text(exc))
    # What is left is smtplib's own complaint about the session ("No suitable authentication
    # method found"): a mismatch between the settings and the server.
    return True, messages.smtp_unsupported(host, messages.error_text(exc))
