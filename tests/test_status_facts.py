"""bot.status_facts: what ``selfreg status`` adds from the store and the data folder, read-only."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from actions.base import Mode, Risk
from bot import status_facts
from bot.config import LoadedConfig, validate
from bot.records import Incident, IncidentKind, Proposal, ProposalState, Severity
from bot.store import incidents, open_store, proposals
from checks.base import Status

T0 = 1_700_000_000.0


def loaded(data_dir: Path) -> LoadedConfig:
    document = {"checks": [{"kind": "tcp", "name": "api", "port": 1}]}
    return LoadedConfig(
        settings=validate(document, [(Path("selfreg.toml"), document)]),
        files=(Path("selfreg.toml"),),
        data_dir=data_dir,
        web_token=None,
        log_level="INFO",
    )


def fill(config: LoadedConfig) -> int:
    """A store with one open incident, one pending and one decided proposal, one backup event;
    returns the incident's id."""
    store = open_store(config.db_path)
    try:
        with store.transaction():
            incident = incidents.save_incident(
                store,
                Incident(
                    fingerprint="api||rule",
                    check="api",
                    subject="",
                    kind=IncidentKind.RULE,
                    severity=Severity.CRITICAL,
                    status=Status.CRITICAL,
                    summary="cannot connect",
                    opened_at=T0,
                    last_seen_at=T0,
                ),
            )
            for state in (ProposalState.PROPOSED, ProposalState.DENIED):
                proposals.save(
                    store,
                    Proposal(
                        incident_id=incident.id,
                        action="restart-api",
                        state=state,
                        mode=Mode.APPROVE,
                        risk=Risk.LOW,
                        requested_by="selfreg",
                        created_at=T0,
                        expires_at=T0 + 900,
                    ),
                )
            store.record_event("backup.created", "selfreg", T0 + 10, path="x")
        return incident.id
    finally:
        store.close()


def test_a_data_folder_that_never_ran_adds_empty_lists_and_no_backup(tmp_path: Path) -> None:
    config = loaded(tmp_path / "data")
    document = status_facts.add_facts({"running": False}, config)
    assert document == {
        "running": False,
        "incidents": [],
        "pending_approvals": [],
        "last_backup": None,
    }
    assert not config.db_path.exists(), "reading the status creates no store"


def test_open_incidents_pending_approvals_and_the_backup_event_come_from_the_store(
    tmp_path: Path,
) -> None:
    config = loaded(tmp_path)
    incident_id = fill(config)
    document = status_facts.add_facts({}, config)
    [incident] = document["incidents"]
    assert (incident["id"], incident["kind"], incident["severity"]) == (
        incident_id,
        "rule",
        "critical",
    )
    assert document["pending_approvals"] == [
        {
            "id": 1,
            "incident_id": incident_id,
            "action": "restart-api",
            "risk": "low",
            "mode": "approve",
            "requested_by": "selfreg",
            "created_at": T0,
            "expires_at": T0 + 900,
        }
    ], "only the proposal still waiting is listed"
    assert document["last_backup"] == {"at": T0 + 10, "path": None}


def test_incidents_the_running_instance_sent_are_kept(tmp_path: Path) -> None:
    config = loaded(tmp_path)
    fill(config)
    document = status_facts.add_facts({"incidents": [{"id": 99}]}, config)
    assert document["incidents"] == [{"id": 99}]
    assert len(document["pending_approvals"]) == 1


def test_the_newest_backup_file_wins_over_an_older_backup_event(tmp_path: Path) -> None:
    config = loaded(tmp_path)
    fill(config)
    folder = tmp_path / status_facts.BACKUPS_FOLDER
    folder.mkdir()
    old, new = folder / "selfreg-old.tar.gz", folder / "selfreg-new.tar.gz"
    for path, at in ((old, T0 + 20), (new, T0 + 30)):
        path.write_bytes(b"x")
        os.utime(path, (at, at))
    (folder / ".partial").write_bytes(b"x")
    os.utime(folder / ".partial", (T0 + 40, T0 + 40))
    assert status_facts.add_facts({}, config)["last_backup"] == {"at": T0 + 30, "path": str(new)}
    os.utime(new, (T0 + 5, T0 + 5))
    os.utime(old, (T0 + 5, T0 + 5))
    found = status_facts.add_facts({}, config)["last_backup"]
    assert found == {"at": T0 + 10, "path": None}, "a newer backup event beats older files"


def test_an_empty_backups_folder_means_no_backup_yet(tmp_path: Path) -> None:
    (tmp_path / status_facts.BACKUPS_FOLDER).mkdir()
    assert status_facts.last_backup(tmp_path, None) == {"at": None, "path": None}


def test_a_store_that_cannot_be_read_leaves_the_document_as_it_was(tmp_path: Path) -> None:
    config = loaded(tmp_path)
    config.db_path.write_bytes(b"this is not a SQLite file" * 100)
    document = status_facts.add_facts({"checks": []}, config)
    assert document == {
        "checks": [],
        "incidents": [],
        "pending_approvals": [],
        "last_backup": None,
    }


def test_a_store_from_before_the_tables_existed_shows_nothing_rather_than_failing(
    tmp_path: Path,
) -> None:
    config = loaded(tmp_path)
    conn = sqlite3.connect(config.db_path)
    conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, at REAL, kind TEXT)")
    conn.execute("INSERT INTO events (at, kind) VALUES (?, 'backup.created')", (T0,))
    conn.commit()
    conn.close()
    document = status_facts.add_facts({}, config)
    assert document == {
        "incidents": [],
        "pending_approvals": [],
        "last_backup": {"at": T0, "path": None},
    }
