"""What people hear of an incident change: the outbox rows ``Alerting`` queues with it.

Slack gets one message per incident (a coalesced ``incident.sync`` row that renders the
incident as it is when delivered, paced for repeats) plus thread replies and cross-posts;
the other channels get one ``incident.notice`` row per loud notice at or above their minimum
severity (the console hears every notice). Rows are written in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from bot.records import (
    LOUD,
    SEVERITY_ORDER,
    Incident,
    IncidentState,
    Notice,
    NoticeKind,
    Severity,
)
from bot.store import outbox
from bot.store.db import Store

SLACK = "slack"


def incident_snapshot(incident: Incident) -> dict[str, Any]:
    """An incident as plain JSON for the outbox and the status document."""
    data = asdict(incident)
    for key in ("kind", "severity", "state", "status"):
        data[key] = data[key].value
    data["values"] = dict(incident.values)
    data["changes"] = list(incident.changes)
    return data


class IncidentMessages:
    """Queues an incident's messages for every channel; counts what it queued."""

    def __init__(
        self, store: Store, channels: Mapping[str, Severity], now: float, update_every: float
    ) -> None:
        self.store = store
        self.channels = channels
        self.now = now
        self.update_every = update_every
        self.queued = 0

    def queue(self, incident: Incident, notices: Sequence[Notice]) -> None:
        """Slack's message and replies, then every other channel's notices."""
        posted_or_postable = (
            incident.slack_ts is not None or incident.state is not IncidentState.SILENCED
        )
        if SLACK in self.channels and posted_or_postable:
            self._slack(incident, notices)
        if incident.state is IncidentState.SILENCED and incident.slack_ts is None:
            notices = [n for n in notices if n.kind not in LOUD]  # recorded, not announced
        for channel, floor in self.channels.items():
            if channel == SLACK:
                continue
            for notice in notices:
                if channel != "console" and (
                    notice.kind not in LOUD
                    or SEVERITY_ORDER.index(incident.severity) < SEVERITY_ORDER.index(floor)
                ):
                    continue
                payload = {**_notice_payload(notice), "incident": incident_snapshot(incident)}
                self._row(channel, "incident.notice", incident.id, payload, self.now)

    def _slack(self, incident: Incident, notices: Sequence[Notice]) -> None:
        now = self.now
        if incident.digest_id is not None:
            self._row(SLACK, "digest.sync", incident.digest_id, {}, now, coalesce=True)
        # a change people must see goes out now; a repeat waits for the pace
        paced = now if notices else max(now, (incident.synced_at or 0) + self.update_every)
        self._row(SLACK, "incident.sync", incident.id, {}, paced, coalesce=True)
        for notice in notices:
            if notice.kind in (NoticeKind.OPENED,):
                continue  # the message itself says it opened
            payload = _notice_payload(notice)
            self._row(SLACK, "incident.reply", incident.id, payload, now)
            if notice.crosspost:
                crosspost = {**payload, "channel": notice.crosspost}
                self._row(SLACK, "incident.crosspost", incident.id, crosspost, now)

    def _row(
        self,
        channel: str,
        kind: str,
        ref: int,
        payload: Mapping[str, Any],
        due: float,
        *,
        coalesce: bool = False,
    ) -> None:
        self.queued += 1
        if coalesce and outbox.hasten_pending(
            self.store, channel=channel, kind=kind, ref=ref, due=due
        ):
            return
        outbox.enqueue(
            self.store,
            channel=channel,
            kind=kind,
            ref=ref,
            payload=payload,
            due=due,
            now=self.now,
        )


def _notice_payload(notice: Notice) -> dict[str, Any]:
    return {"notice": notice.kind.value, "text": notice.text, "mentions": list(notice.mentions)}
