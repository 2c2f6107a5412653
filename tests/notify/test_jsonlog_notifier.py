"""The log channel appends one parseable JSON line per incident event."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.errors import DeliveryError, PermanentDeliveryError
from bot.notify.base import OutboxMessage
from bot.notify.jsonlog import JsonLogNotifier
from tests.support.clock import FakeClock

INCIDENT = {
    "id": 42,
    "fingerprint": "api-health|",
    "check": "api-health",
    "subject": "",
    "kind": "rule",
    "severity": "critical",
    "state": "open",
    "status": "critical",
    "summary": "HTTP 503 from http://127.0.0.1:5051/health",
    "values": {"status_code": 503.0, "latency_ms": 41.5},
    "opened_at": 1_700_000_000.0,
    "last_seen_at": 1_700_000_000.0,
    "resolved_at": None,
    "count": 1,
    "acked_by": None,
    "acked_at": None,
    "silence_id": None,
    "escalation_step": 0,
    "reminded_at": None,
    "changes": [1_700_000_000.0],
    "runbook_url": "https://runbooks.example.org/api-health",
    "digest_id": None,
    "slack_channel": None,
    "slack_ts": None,
    "synced_at": None,
}


def notice(row_id: int, kind: str = "opened", text: str = "Opened: HTTP 503") -> OutboxMessage:
    payload = {"notice": kind, "text": text, "mentions": ["U01ONCALL"], "incident": INCIDENT}
    return OutboxMessage(
        id=row_id, channel="log", kind="incident.notice", payload=payload, attempts=1
    )


async def test_an_event_is_appended_as_one_parseable_line_in_a_new_folder(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "alerts" / "incidents.jsonl"
    await JsonLogNotifier(path, clock=FakeClock(1_700_000_005.0)).deliver(notice(7))
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n") and text.count("\n") == 1
    line = json.loads(text)
    assert line["at"] == 1_700_000_005.0
    assert line["id"] == 7
    assert line["notice"] == "opened"
    assert line["text"] == "Opened: HTTP 503"
    assert line["mentions"] == ["U01ONCALL"]
    assert line["incident"] == INCIDENT


async def test_two_events_give_two_lines_in_order(tmp_path: Path) -> None:
    path = tmp_path / "incidents.jsonl"
    path.write_text('{"kept": true}\n', encoding="utf-8")  # an existing log is appended to
    notifier = JsonLogNotifier(path)
    await notifier.deliver(notice(1))
    await notifier.deliver(notice(2, "resolved", "Resolved after 4 m 12 s: HTTP 200\nall good"))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert json.loads(lines[0]) == {"kept": True}
    assert [json.loads(line)["notice"] for line in lines[1:]] == ["opened", "resolved"]
    assert json.loads(lines[2])["text"].endswith("HTTP 200\nall good")


async def test_other_kinds_of_outbox_rows_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "incidents.jsonl"
    sync = OutboxMessage(id=3, channel="log", kind="incident.sync", payload={}, attempts=1)
    await JsonLogNotifier(path).deliver(sync)
    assert not path.exists()


async def test_a_path_that_cannot_be_written_is_a_transient_delivery_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be", encoding="utf-8")
    with pytest.raises(DeliveryError) as raised:
        await JsonLogNotifier(blocker / "incidents.jsonl").deliver(notice(4))
    assert not isinstance(raised.value, PermanentDeliveryError)
    assert raised.value.reason.startswith(f"cannot append to {blocker / 'incidents.jsonl'}: ")
