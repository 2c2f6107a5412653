"""Slack down for minutes of selfreg's clock while incidents open and resolve, then back.

In process, on a fake clock: the real ``Alerting``, ``SlackNotifier`` and ``OutboxWorker``
over a real store file, talking to the Slack stand-in through a real ``AsyncWebClient``.
While Slack is down every call answers 503; incidents open (one every few seconds of the
fake clock) and resolve half a minute later; the outbox is asked to deliver at every step, as
the worker would be. Then Slack is back, with bursts of 429 (Retry-After 1) thrown in, and
the outbox drains. What is counted:

- every incident posted exactly once (a message naming its check, top level or in a storm
  digest's thread), and its message's last revision reads resolved;
- order per incident: no revision after a resolved one reads failing again;
- the backlog lived in SQLite: outbox rows at the end of the outage, and Python's heap
  (tracemalloc) at each quarter of the outage;
- storm digests posted (the design: from ``storm.incidents`` open at once, new ones go into
  one digest's thread).
"""

from __future__ import annotations

import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

from slack_sdk.web.async_client import AsyncWebClient

from bot.config.alerts import AlertsSettings
from bot.engine.alerting import Alerting
from bot.engine.transitions import fingerprint
from bot.notify.outbox import OutboxWorker
from bot.records import IncidentKind, Severity, Transition
from bot.slack import delivery
from bot.slack.delivery import SlackNotifier
from bot.store import incidents as incident_rows
from bot.store import open_store
from checks.base import CheckSpec, Status
from tests.support.clock import FakeClock
from tests.support.slack_selfreg import CHANNEL, new_emulator

STEP = 3.0  # seconds of the fake clock between delivery passes during the outage
OPEN_FOR = 30.0  # each incident resolves this long after it opened


@dataclass
class OutageFigures:
    incidents: int = 0
    outage_seconds: float = 0.0
    backlog_rows: int = 0
    heap_kb: list[float] = field(default_factory=list)  # at each quarter of the outage
    posted_once: int = 0
    posted_twice: int = 0
    missing: list[str] = field(default_factory=list)
    not_resolved: list[str] = field(default_factory=list)
    out_of_order: list[str] = field(default_factory=list)
    digests: int = 0
    throttled: int = 0
    drain_passes: int = 0


def name(i: int) -> str:
    return f"svc-{i:03d}"


def transition(i: int, failing: bool, at: float) -> Transition:
    check = name(i)
    return Transition(
        fingerprint=fingerprint(check, "", IncidentKind.RULE, ""),
        check=check,
        subject="",
        previous=Status.OK if failing else Status.CRITICAL,
        current=Status.CRITICAL if failing else Status.OK,
        severity=Severity.CRITICAL,
        summary=f"{check} is down" if failing else f"{check} answers again",
        at=at,
    )


async def run_outage(tmp: Path, incidents: int = 200, outage: float = 600.0) -> OutageFigures:
    pace, delivery.PACE = delivery.PACE, 0.0  # 1 msg/s per channel is real time; this clock is fake
    figures = OutageFigures(incidents=incidents, outage_seconds=outage)
    emu = new_emulator()
    store = open_store(tmp / "selfreg.db")
    clock = FakeClock()
    client = AsyncWebClient(token=emu.config.bot_token, base_url=emu.base_url)
    notifier = SlackNotifier(client, store, clock, CHANNEL)
    outbox = OutboxWorker(store, {"slack": notifier}, clock)
    specs = {name(i): CheckSpec(kind="tcp", name=name(i)) for i in range(incidents)}
    alerting = Alerting(store, clock, AlertsSettings(), specs, {"slack": Severity.INFO})
    try:
        emu.fail("*", status=503, times=None)
        tracemalloc.start()
        await _outage(alerting, outbox, clock, incidents, outage, figures.heap_kb)
        tracemalloc.stop()
        figures.backlog_rows = outbox.pending_count()
        emu.faults.clear()
        await _drain(emu, outbox, clock, figures)
        _count(emu, store, figures, incidents)
    finally:
        delivery.PACE = pace
        store.close()
        emu.stop()
    return figures


async def _outage(
    alerting: Alerting,
    outbox: OutboxWorker,
    clock: FakeClock,
    incidents: int,
    outage: float,
    heap_kb: list[float],
) -> None:
    """Open one incident every ``outage / incidents`` seconds, resolve each OPEN_FOR later;
    note Python's heap at each quarter of the outage."""
    every = outage / incidents
    opened: list[tuple[float, int]] = []
    started, next_open, i = clock.now(), clock.now(), 0
    while clock.now() - started < outage or opened:
        while i < incidents and clock.now() >= next_open:
            alerting.handle(transition(i, True, clock.now()))
            opened.append((clock.now(), i))
            i, next_open = i + 1, next_open + every
        while opened and clock.now() - opened[0][0] >= OPEN_FOR:
            alerting.handle(transition(opened.pop(0)[1], False, clock.now()))
        if clock.now() - started < outage:
            await outbox.deliver_due()  # fails: Slack is down
        if clock.now() - started >= len(heap_kb) * outage / 4 and len(heap_kb) < 5:
            heap_kb.append(tracemalloc.get_traced_memory()[0] / 1024)
        clock.advance(STEP)


async def _drain(emu, outbox: OutboxWorker, clock: FakeClock, figures: OutageFigures) -> None:
    """Slack is back, with a burst of 429s on each of the first five passes; deliver until
    the backlog is gone."""
    for passes in range(2000):
        if outbox.pending_count() == 0:
            figures.drain_passes = passes
            return
        if passes < 5:
            emu.fail("chat.postMessage", status=429, retry_after=1, times=3)
            emu.fail("chat.update", status=429, retry_after=1, times=3)
        await outbox.deliver_due()
        clock.advance(2.0)
    figures.drain_passes = 2000


def _count(emu, store, figures: OutageFigures, incidents: int) -> None:
    figures.throttled = sum(1 for c in emu.calls() if c.status == 429)
    messages = emu.messages(CHANNEL)
    figures.digests = sum(1 for m in messages if _header(m).startswith("🌩"))
    posts: dict[str, list] = {}
    for message in messages:
        header = _header(message)
        if header and not header.startswith("🌩"):
            posts.setdefault(header.rsplit(None, 1)[-1], []).append(message)
    for incident in incident_rows.recent_incidents(store, incidents * 2):
        own = posts.get(incident.check, [])
        if incident.slack_ts is None or not own:
            figures.missing.append(incident.check)
            continue
        figures.posted_once += len(own) == 1
        figures.posted_twice += len(own) > 1
        revisions = emu.history(CHANNEL, incident.slack_ts)
        resolved = ["RESOLVED" in _header(r) for r in revisions]
        if not resolved or not resolved[-1]:
            figures.not_resolved.append(incident.check)
        replies = [
            m.ts for m in messages if m.thread_ts == incident.slack_ts and m.ts != m.thread_ts
        ]
        back = any(resolved[k] and not resolved[k + 1] for k in range(len(resolved) - 1))
        if back or any(_ts(r) < _ts(incident.slack_ts) for r in replies):
            figures.out_of_order.append(incident.check)


def _header(message) -> str:
    """The text of a message's header block ("✅ RESOLVED after 30 s  svc-005"), or ""."""
    for block in message.blocks[:1]:
        if block.get("type") == "header":
            return str(block.get("text", {}).get("text", ""))
    return ""


def _ts(ts: str) -> tuple[int, ...]:
    return tuple(int(part) for part in ts.split("."))
