"""selfreg's own life: did the previous run end cleanly, and what the start notice says.

A run records ``selfreg.started`` first and ``selfreg.stopped`` last. When the newest of the
two is a start, the previous run never stopped (``kill -9``, an out-of-memory kill, a power
cut): the new run says so, with what it found and took over: the components it re-adopted
(and their pids), the open incidents it resumes and the approvals still pending.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import messages
from bot.engine.supervisor import SupervisorEvent
from bot.records import EventKind
from bot.store import events, proposals
from bot.store.db import Store
from bot.store.incidents import open_incidents


@dataclass(frozen=True, kw_only=True, slots=True)
class PreviousRun:
    """How the previous run ended, read before this run records its own start."""

    started_at: float | None  # None: this is the first run with this store
    stopped: bool

    @property
    def crashed(self) -> bool:
        return self.started_at is not None and not self.stopped


def previous_run(store: Store) -> PreviousRun:
    last = events.last_of(store, EventKind.STARTED, EventKind.STOPPED)
    if last is None:
        return PreviousRun(started_at=None, stopped=True)
    kind, at = last
    return PreviousRun(started_at=at, stopped=kind == EventKind.STOPPED)


def last_event_id(store: Store) -> int:
    return events.last_event_id(store)


def recovery_notice(store: Store, previous: PreviousRun, since_event: int) -> str:
    """The "recovered from a crash" notice: adoptions recorded after event ``since_event``."""
    adopted = [
        (subject, int(detail.get("pid") or 0))
        for subject, detail in events.since(store, SupervisorEvent.ADOPTED, since_event)
    ]
    incidents = [(i.id, i.check) for i in open_incidents(store)]
    approvals = [(p.id, p.action) for p in proposals.open_proposals(store)]
    return messages.recovered_from_crash(previous.started_at or 0.0, adopted, incidents, approvals)
