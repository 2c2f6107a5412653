"""What people hear of an incident change: the outbox rows ``Alerting`` queues with it.

Slack gets one message per incident (a coalesced ``incident.sync`` row that renders the
incident as it is when delivered, paced for repeats) plus thread replies and cross-posts;
the other channels get one ``incident.notice`` row per loud notice at or above their minimum
severity (the console hears every notice). Rows are written in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict
from typing import Any, NamedTuple

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


class _Row(NamedTuple):
    """One outbox row to queue; a ``coalesce`` one only hastens a pending row of its kind."""

    channel: str
    kind: str
    ref: int
    payload: Mapping[str, Any]
    due: float
    coalesce: bool = False


def queue_messages(
    store: Store,
    channels: Mapping[str, Severity],
    incident: Incident,
    notices: Sequence[Notice],
    *,
    now: float,
    update_every: float,
) -> int:
    """Queue an incident's messages for every channel, in the caller's transaction: Slack's
    message and replies, then every other channel's notices. Returns how many rows it queued
    (a row that hastened a pending one counts)."""
    planned = [
        *_slack_rows(channels, incident, notices, now, update_every),
        *_notice_rows(channels, incident, notices, now),
    ]
    for row in planned:
        if row.coalesce and outbox.hasten_pending(
            store, channel=row.channel, kind=row.kind, ref=row.ref, due=row.due
        ):
            continue
        outbox.enqueue(
            store,
            channel=row.channel,
            kind=row.kind,
            ref=row.ref,
            payload=row.payload,
            due=row.due,
            now=now,
        )
    return len(planned)


def _slack_rows(
    channels: Mapping[str, Severity],
    incident: Incident,
    notices: Sequence[Notice],
    now: float,
    update_every: float,
) -> Iterator[_Row]:
    """Slack's one message per incident (paced for repeats), its replies and cross-posts."""
    posted_or_postable = (
        incident.slack_ts is not None or incident.state is not IncidentState.SILENCED
    )
    if SLACK not in channels or not posted_or_postable:
        return
    if incident.digest_id is not None:
        yield _Row(SLACK, "digest.sync", incident.digest_id, {}, now, coalesce=True)
    # a change people must see goes out now; a repeat waits for the pace
    paced = now if notices else max(now, (incident.synced_at or 0) + update_every)
    yield _Row(SLACK, "incident.sync", incident.id, {}, paced, coalesce=True)
    for notice in notices:
        if notice.kind in (NoticeKind.OPENED,):
            continue  # the message itself says it opened
        payload = _notice_payload(notice)
        yield _Row(SLACK, "incident.reply", incident.id, payload, now)
        if notice.crosspost:
            crosspost = {**payload, "channel": notice.crosspost}
            yield _Row(SLACK, "incident.crosspost", incident.id, crosspost, now)


def _notice_rows(
    channels: Mapping[str, Severity], incident: Incident, notices: Sequence[Notice], now: float
) -> Iterator[_Row]:
    """Every other channel's notices: the loud ones at or above its floor (the console hears
    every notice); a silenced incident not yet posted is recorded, not announced."""
    if incident.state is IncidentState.SILENCED and incident.slack_ts is None:
        notices = [n for n in notices if n.kind not in LOUD]
    for channel, floor in channels.items():
        if channel == SLACK:
            continue
        for notice in notices:
            if channel != "console" and (
                notice.kind not in LOUD
                or SEVERITY_ORDER.index(incident.severity) < SEVERITY_ORDER.index(floor)
            ):
                continue
            payload = {**_notice_payload(notice), "incident": incident_snapshot(incident)}
            payload["at"] = now  # when it happened (the console's time), not the last run
            yield _Row(channel, "incident.notice", incident.id, payload, now)


def _notice_payload(notice: Notice) -> dict[str, Any]:
    return {"notice": notice.kind.value, "text": notice.text, "mentions": list(notice.mentions)}
