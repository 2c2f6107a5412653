"""Email and webhook wording, and why a delivery failed.

The email subject and body people receive, and the reasons an outbox row could not be
delivered (shown in the log and ``/status``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.messages.common import subject_label, utc_time


def email_subject(severity: str, what: str, text: str, limit: int = 120) -> str:
    """``[CRITICAL] api-health: Opened: HTTP 503 ...`` on one line, at most ``limit`` long."""
    subject = " ".join(f"[{severity.upper()}] {what}: {text}".split())
    return subject if len(subject) <= limit else subject[: limit - 3].rstrip() + "..."


def email_body(text: str, incident: Mapping[str, Any]) -> str:
    """The plain-text email: what happened, then the incident's facts, one per line."""
    rows = [
        ("Severity", incident["severity"]),
        ("What", subject_label(incident["check"], incident["subject"])),
        ("State", f"{incident['state']} (status {incident['status']})"),
        ("First seen", utc_time(incident["opened_at"])),
        ("Last seen", utc_time(incident["last_seen_at"])),
        ("Failing runs", str(incident["count"])),
        ("Summary", incident["summary"]),
    ]
    if incident.get("resolved_at") is not None:
        rows.append(("Resolved", utc_time(incident["resolved_at"])))
    if incident.get("acked_by"):
        rows.append(("Acknowledged by", incident["acked_by"]))
    if incident.get("runbook_url"):
        rows.append(("Runbook", incident["runbook_url"]))
    width = max(len(label) for label, _ in rows) + 2
    facts = [f"{label + ':':<{width}}{value}" for label, value in rows]
    return "\n".join([text, "", *facts, "", f"Incident #{incident['id']}, sent by selfreg."]) + "\n"


def log_not_written(path: str, error: str) -> str:
    return f"cannot append to {path}: {error}"


def smtp_unreachable(host: str, port: int, error: str) -> str:
    return f"cannot reach the SMTP server {host}:{port}: {error}"


def smtp_refused(code: int, detail: str) -> str:
    return f"the SMTP server refused with {code}: {detail}"


def smtp_recipients_refused(refused: Mapping[str, tuple[int, str]]) -> str:
    each = ", ".join(f"{who} ({code} {detail})" for who, (code, detail) in refused.items())
    return f"the SMTP server refused every recipient: {each}"


def smtp_unsupported(host: str, detail: str) -> str:
    return f"the SMTP server {host} cannot do what [alerts.email] asks: {detail}"


def smtp_password_missing() -> str:
    return "[alerts.email] username is set but SELFREG_SMTP_PASSWORD is empty"


def certificate_untrusted(host: str, detail: str) -> str:
    return f"the certificate of {host} is not trusted: {detail}"


def webhook_answered(host: str, status: int, detail: str) -> str:
    return f"the webhook at {host} answered HTTP {status}" + (f": {detail}" if detail else "")


def webhook_redirected(host: str, status: int, location: str) -> str:
    return (
        f"the webhook at {host} redirects (HTTP {status}) to {location or 'nowhere'}; "
        "set [alerts.webhook] url to the final address"
    )


def webhook_unreachable(host: str, error: str) -> str:
    return f"cannot reach the webhook at {host}: {error}"


# ---- why a heartbeat ping failed (never the URL: it may carry a secret) ---------------------
def ping_http_status(status: int) -> str:
    return f"HTTP {status}"


def ping_timed_out() -> str:
    return "timed out"


def ping_unreachable(host: str, port: int, why: str | None) -> str:
    return f"cannot connect to {host}:{port} ({why or 'refused'})"


def ping_error(kind: str, errno: int | None) -> str:
    return kind + (f" (errno {errno})" if errno else "")


def short_write(written: int, total: int) -> str:
    """The JSON-lines channel wrote part of a line (a disk that filled up during the write)."""
    return f"wrote {written} of {total} bytes"
