"""The Alertmanager channel: selfreg's incidents sent to Alertmanager's API as alerts, for
teams that route everything through Alertmanager.

Each loud notice of an incident (opened, worsened, escalated, resolved, ...) at or above the
channel's minimum severity POSTs ``/api/v2/alerts`` with the incident as one alert: labels
``alertname`` (the check), ``subject`` (when there is one), ``severity``, ``kind`` and
``source="selfreg"``; annotations ``summary`` (the incident's), ``description`` (the notice)
and ``runbook_url``; ``startsAt`` the opening. A firing alert's ``endsAt`` is ``hold`` ahead
(Alertmanager would resolve an alert nobody resends within its ``resolve_timeout``), a
resolved one's is the resolution time. Labels make an alert's identity, and a worsened
incident changes ``severity``: so each POST also ends the same alert under the other
severities (Alertmanager does not notify about a resolved alert it never saw firing).

Incidents of the ``[alertmanager]`` check came from Alertmanager and are never sent back.
Delivery goes through the durable outbox like every channel: 408, 429, 5xx and network
errors are retried (``Retry-After`` honoured), other answers are permanent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp
from yarl import URL

from bot import messages
from bot.clock import Clock, SystemClock
from bot.config.alertmanager import AlertmanagerChannel
from bot.errors import DeliveryError, PermanentDeliveryError
from bot.notify.base import OutboxMessage
from bot.notify.webhook import retry_after

log = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=10)
SEVERITIES = ("info", "warning", "error", "critical")


def rfc3339(epoch: float) -> str:
    """A time as Alertmanager's API reads it."""
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def alerts_for(payload: Mapping[str, Any], now: float, hold: float) -> list[dict[str, Any]]:
    """The alerts one notice sends: the incident under its severity, and ended under the others."""
    incident: Mapping[str, Any] = payload["incident"]
    labels = {"alertname": incident["check"], "kind": incident["kind"], "source": "selfreg"}
    if incident.get("subject"):
        labels["subject"] = incident["subject"]
    annotations = {"summary": incident["summary"], "description": payload.get("text", "")}
    if incident.get("runbook_url"):
        annotations["runbook_url"] = incident["runbook_url"]
    resolved_at = incident.get("resolved_at")
    ends = resolved_at if resolved_at is not None else now + hold
    starts = rfc3339(incident["opened_at"])
    sent = [
        {
            "labels": {**labels, "severity": severity},
            "annotations": annotations,
            "startsAt": starts,
            "endsAt": rfc3339(ends if severity == incident["severity"] else now),
        }
        for severity in SEVERITIES
    ]
    return sent


class AlertmanagerNotifier:
    """POSTs each loud incident notice to ``<url>/api/v2/alerts``."""

    name = "alertmanager"

    def __init__(
        self,
        settings: AlertmanagerChannel,
        token: str | None,
        http: aiohttp.ClientSession,
        *,
        clock: Clock | None = None,
        skip_check: str | None = None,
    ) -> None:
        self.settings = settings
        self._token = token
        self.http = http
        self.clock = clock or SystemClock()
        self.skip_check = skip_check
        self.url = settings.url.rstrip("/") + "/api/v2/alerts"
        self.where = str(URL(settings.url).origin())

    def __repr__(self) -> str:
        return f"AlertmanagerNotifier({self.where!r})"

    async def deliver(self, message: OutboxMessage) -> None:
        """POST the incident's alerts; ``DeliveryError`` / ``PermanentDeliveryError`` on failure."""
        if message.kind != "incident.notice":
            return
        if message.payload["incident"]["check"] == self.skip_check:
            return  # it came from Alertmanager: sending it back would loop
        body = alerts_for(message.payload, self.clock.now(), self.settings.hold)
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        try:
            async with self.http.post(
                self.url, json=body, headers=headers, timeout=TIMEOUT, allow_redirects=False
            ) as response:
                if 200 <= response.status < 300:
                    log.info(messages.row_posted(message.id, self.where))
                    return
                said = (await response.content.read(200)).decode("utf-8", "replace")
                reason = messages.alertmanager_answered(self.where, response.status, said.strip())
                if response.status in (408, 429) or response.status >= 500:
                    wait = retry_after(response.headers.get("Retry-After"), self.clock.now())
                    raise DeliveryError(self.name, reason, wait)
                raise PermanentDeliveryError(self.name, reason)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(
                self.name, messages.alertmanager_unreachable(self.where, messages.error_text(exc))
            ) from exc
