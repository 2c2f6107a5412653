"""Silences and maintenance windows: which incidents are muted right now (pure).

A silence matches by fingerprint, or by check / subject globs and a severity; it is active
from its start until its end, or until the incident it was made for resolves. Maintenance
windows from config are silences that recur (a cron spec and a duration) or have fixed times.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from bot import messages
from bot.config.alerts import MaintenanceWindow
from common.units import parse_duration


def matches(
    matcher: Mapping[str, Any], *, fingerprint: str, check: str, subject: str, severity: str
) -> bool:
    """True when every key the matcher gives agrees (globs for check and subject)."""
    if "fingerprint" in matcher and matcher["fingerprint"] != fingerprint:
        return False
    if "check" in matcher and not fnmatch.fnmatchcase(check, matcher["check"]):
        return False
    if "subject" in matcher and not fnmatch.fnmatchcase(subject, matcher["subject"]):
        return False
    return not ("severity" in matcher and matcher["severity"] != severity)


def parse_matcher(text: str) -> dict[str, str]:
    """``check=api*,severity=warning`` or a bare check glob ``api*`` -> a matcher dict.

    Raises ``ValueError`` naming the part it could not read.
    """
    matcher: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            key, value = "check", part
        key = key.strip()
        if key not in ("check", "subject", "severity", "fingerprint") or not value.strip():
            raise ValueError(messages.bad_matcher_part(part))
        matcher[key] = value.strip()
    if not matcher:
        raise ValueError(messages.matcher_needed())
    if matcher.get("severity") not in (None, "info", "warning", "error", "critical"):
        raise ValueError(messages.bad_severity())
    return matcher


def parse_time(text: str) -> float:
    """ISO 8601 (``2026-12-01T02:00Z``; UTC when no zone is given) -> epoch seconds."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def silence_terms(
    matcher_text: str, duration_text: str, starts_text: str | None = None
) -> tuple[dict[str, str], float, float | None]:
    """A silence as a person writes it, whichever door (``/selfreg silence``, ``selfreg
    silence``): (matcher, seconds, start or None for now). Raises ``ValueError`` saying what
    is wrong, for the door to show with its usage."""
    matcher = parse_matcher(matcher_text)
    duration = parse_duration(duration_text)
    if duration <= 0:
        raise ValueError(messages.DURATION_NOT_POSITIVE)
    if starts_text is None:
        return matcher, duration, None
    try:
        return matcher, duration, parse_time(starts_text)
    except ValueError:
        raise ValueError(messages.FROM_NEEDS_TIME) from None


def maintenance_span(window: MaintenanceWindow, now: float) -> tuple[float, float] | None:
    """(start, end) of the window's occurrence that covers ``now``, else None."""
    if window.start and window.end:
        start, end = parse_time(window.start), parse_time(window.end)
        return (start, end) if start <= now < end else None
    assert window.cron is not None and window.duration is not None
    trigger = CronTrigger.from_crontab(window.cron, timezone=UTC)
    earliest = datetime.fromtimestamp(now - window.duration, UTC)
    fire = trigger.get_next_fire_time(None, earliest)
    if fire is None or not fire.timestamp() <= now < fire.timestamp() + window.duration:
        return None
    return fire.timestamp(), fire.timestamp() + window.duration


def maintenance_matcher(window: MaintenanceWindow) -> dict[str, str]:
    return {k: v for k, v in (("check", window.check), ("subject", window.subject)) if v}
