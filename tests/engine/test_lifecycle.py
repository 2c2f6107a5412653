"""How the previous run ended, and what the "recovered from a crash" notice lists."""

from __future__ import annotations

import time
from pathlib import Path

from actions.base import Mode, Risk
from bot.engine.lifecycle import last_event_id, previous_run, recovery_notice
from bot.engine.supervisor import SupervisorEvent
from bot.records import EventKind, Incident, Proposal, Severity
from bot.store import open_store, proposals
from bot.store.incidents import save_incident
from checks.base import Status


def test_a_start_without_a_stop_is_a_crash_and_the_notice_lists_what_was_found(
    tmp_path: Path,
) -> None:
    store = open_store(tmp_path / "selfreg.db")
    try:
        assert not previous_run(store).crashed  # a first run
        now = time.time()
        with store.transaction():
            store.record_event(EventKind.STARTED, "", now - 60)
            store.record_event(EventKind.STOPPED, "", now - 30)
        assert not previous_run(store).crashed
        with store.transaction():
            store.record_event(EventKind.STARTED, "", now - 20)
            incident = save_incident(
                store,
                Incident(
                    fingerprint="api-health||rule",
                    check="api-health",
                    subject="",
                    severity=Severity.CRITICAL,
                    status=Status.CRITICAL,
                    summary="HTTP 503",
                    opened_at=now - 10,
                    last_seen_at=now - 5,
                ),
            )
            proposals.save(
                store,
                Proposal(
                    incident_id=incident.id,
                    action="restart-api",
                    mode=Mode.APPROVE,
                    risk=Risk.MEDIUM,
                    requested_by="selfreg",
                    created_at=now - 10,
                    expires_at=now + 3600,
                ),
            )
        previous = previous_run(store)
        assert previous.crashed and previous.started_at == now - 20
        since = last_event_id(store)
        with store.transaction():
            store.record_event(SupervisorEvent.ADOPTED, "api", now, instance=0, pid=4242)
        text = recovery_notice(store, previous, since)
    finally:
        store.close()
    assert text.startswith("selfreg recovered from a crash: the run started ")
    assert "re-adopted component api (pid 4242)" in text
    assert f"resumed 1 open incident (#{incident.id} api-health)" in text
    assert "1 pending approval (#1 restart-api)" in text
