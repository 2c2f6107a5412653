"""Silences in the store: which stored silence mutes an incident, maintenance windows made
into stored silences, and "until resolved" silences ended with their incident.

``bot.engine.silences`` holds the pure rules (matching, maintenance spans); this module
applies them to the rows in ``bot.store.incidents``, inside the caller's transaction.
``Alerting`` calls it when an incident opens or resolves and on every sweep.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot import messages
from bot.config.alerts import MaintenanceWindow
from bot.engine.silences import maintenance_matcher, maintenance_span, matches
from bot.records import Incident, Severity, Silence
from bot.store import incidents as rows
from bot.store.db import Store


def silence_for(
    store: Store, fingerprint: str, check: str, subject: str, severity: Severity, now: float
) -> Silence | None:
    """The first active silence that matches an incident's keys, or None."""
    for silence in rows.active_silences(store, now):
        if matches(
            silence.matcher,
            fingerprint=fingerprint,
            check=check,
            subject=subject,
            severity=severity.value,
        ):
            return silence
    return None


def materialise_maintenance(store: Store, windows: Sequence[MaintenanceWindow], now: float) -> None:
    """Turn each active maintenance window into a stored silence (once per occurrence)."""
    for window in windows:
        span = maintenance_span(window, now)
        if span is None:
            continue
        matcher = {**maintenance_matcher(window), "maintenance": window.name}
        if any(
            dict(s.matcher) == matcher and s.starts_at == span[0]
            for s in rows.active_silences(store, now)
        ):
            continue
        rows.add_silence(
            store,
            matcher,
            starts_at=span[0],
            ends_at=span[1],
            until_resolved=False,
            reason=messages.maintenance_reason(window.name),
            author="selfreg",
            now=now,
        )


def end_silences_for(store: Store, incident: Incident, now: float) -> None:
    """A silence made 'until resolved' for this incident ends with it."""
    if incident.silence_id is None:
        return
    silence = rows.get_silence(store, incident.silence_id)
    if silence is not None and silence.until_resolved:
        rows.remove_silence(store, silence.id, "selfreg", now)
