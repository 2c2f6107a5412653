"""The outbox: claimed once, delivered once; transient failures retried, permanent ones kept."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.errors import DeliveryError, PermanentDeliveryError
from bot.notify import outbox
from bot.notify.base import OutboxMessage
from bot.notify.console import ConsoleNotifier
from bot.notify.outbox import OutboxWorker
from bot.store import Store, db
from bot.store.db import WriteFault, open_store
from tests.support.clock import FakeClock
from tests.support.db import execute, rows, scalar
from tests.support.slack_inprocess import eventually

NOTICE = {
    "notice": "opened",
    "text": "Opened: HTTP 503 from http://127.0.0.1:5051/health",
    "mentions": [],
    "incident": {
        "check": "api",
        "subject": "",
        "severity": "critical",
        "last_seen_at": 1_700_000_000.0,
    },
}


class Flaky:
    """A notifier that fails the way it is told, then succeeds."""

    name = "flaky"

    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.delivered: list[OutboxMessage] = []

    async def deliver(self, message: OutboxMessage) -> None:
        if self.failures:
            raise self.failures.pop(0)
        self.delivered.append(message)


def queue(store: Store, channel: str, at: float) -> int:
    row = execute(
        store,
        "INSERT INTO outbox (created_at, channel, kind, payload, next_attempt_at) "
        "VALUES (?, ?, 'incident.notice', ?, ?) RETURNING id",
        (at, channel, json.dumps(NOTICE), at),
    )[0]
    return row[0]


async def test_the_console_prints_one_readable_line_per_incident_event(store) -> None:
    clock = FakeClock()
    out = io.StringIO()
    queue(store, "console", clock.now())
    await OutboxWorker(store, {"console": ConsoleNotifier(out)}, clock).deliver_due()
    line = out.getvalue()
    assert line.count("\n") == 1
    assert "CRITICAL  api  Opened: HTTP 503 from http://127.0.0.1:5051/health" in line


async def test_a_failed_row_holds_back_later_rows_of_its_channel_to_keep_order(store) -> None:
    clock = FakeClock()
    notifier = Flaky([DeliveryError("flaky", "HTTP 503")])
    worker = OutboxWorker(store, {"flaky": notifier}, clock)
    first = queue(store, "flaky", clock.now())
    second = queue(store, "flaky", clock.now())
    await worker.deliver_due()
    assert notifier.delivered == [], "the second row waited behind the first"
    clock.advance(1)
    await worker.deliver_due()
    assert [m.id for m in notifier.delivered] == [first, second]


async def test_a_transient_failure_is_retried_after_its_retry_after(store) -> None:
    clock = FakeClock()
    notifier = Flaky([DeliveryError("flaky", "HTTP 429", retry_after=30)])
    worker = OutboxWorker(store, {"flaky": notifier}, clock)
    row_id = queue(store, "flaky", clock.now())
    assert await worker.deliver_due() == pytest.approx(30)
    clock.advance(29)
    await worker.deliver_due()
    assert notifier.delivered == []
    clock.advance(1)
    await worker.deliver_due()
    assert [m.id for m in notifier.delivered] == [row_id]
    assert notifier.delivered[0].attempts == 2
    assert worker.pending_count() == 0
    # /metrics counts both: the failed attempt and the delivery
    assert worker.tally.counts("delivery_failures") == [
        ({"channel": "flaky", "kind": "transient"}, 1)
    ]
    assert worker.tally.counts("deliveries") == [({"channel": "flaky"}, 1)]


async def test_a_permanent_failure_is_kept_with_its_reason_and_not_retried(store) -> None:
    clock = FakeClock()
    notifier = Flaky([PermanentDeliveryError("flaky", "channel_not_found")])
    worker = OutboxWorker(store, {"flaky": notifier}, clock)
    queue(store, "flaky", clock.now())
    await worker.deliver_due()
    clock.advance(3600)
    await worker.deliver_due()
    row = rows(store, "SELECT failed_at, last_error, delivered_at FROM outbox")[0]
    assert row["last_error"] == "channel_not_found" and row["failed_at"] and not row["delivered_at"]
    event = rows(store, "SELECT detail FROM events WHERE kind = 'outbox.delivery_failed'")[0]
    assert json.loads(event[0])["error"] == "channel_not_found"
    assert notifier.delivered == []


async def test_a_claimed_row_is_not_delivered_by_a_second_worker(store) -> None:
    clock = FakeClock()
    first, second = Flaky([]), Flaky([])
    queue(store, "flaky", clock.now())
    now = clock.now()
    # the first worker claims the row (as it would just before delivering) ...
    assert OutboxWorker(store, {"flaky": first}, clock)._claim(1, now)
    # ... so another worker, or a restarted one, leaves it alone until the claim lapses
    await OutboxWorker(store, {"flaky": second}, clock).deliver_due()
    assert second.delivered == []
    clock.advance(61)
    await OutboxWorker(store, {"flaky": second}, clock).deliver_due()
    assert len(second.delivered) == 1


async def test_rows_for_a_channel_without_a_notifier_wait(store) -> None:
    clock = FakeClock()
    queue(store, "slack", clock.now())
    worker = OutboxWorker(store, {"console": ConsoleNotifier(io.StringIO())}, clock)
    assert await worker.deliver_due() == 30.0
    assert scalar(store, "SELECT attempts FROM outbox") == 0


async def test_finish_lets_the_worker_flush_what_is_due_and_end_between_rows(store) -> None:
    import asyncio

    clock = FakeClock()
    notifier = Flaky([])
    worker = OutboxWorker(store, {"flaky": notifier}, clock)
    task = asyncio.create_task(worker.run())
    await asyncio.sleep(0.05)  # the worker is idle, waiting
    first, second = queue(store, "flaky", clock.now()), queue(store, "flaky", clock.now())
    worker.finish()
    await asyncio.wait_for(task, timeout=5)
    assert [m.id for m in notifier.delivered] == [first, second]


class LocksTheStore(Flaky):
    """Delivers, then another connection takes the store's write lock (as another process
    would): the row's outcome cannot be kept."""

    def __init__(self, path: str) -> None:
        super().__init__([])
        self.other = sqlite3.connect(path, isolation_level=None)

    async def deliver(self, message: OutboxMessage) -> None:
        await super().deliver(message)
        if not self.other.in_transaction and len(self.delivered) == 1:
            self.other.execute("BEGIN EXCLUSIVE")


@pytest.fixture
def refusing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """A store whose refused writes give up after 100 ms; the worker tries again at once."""
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 100)
    monkeypatch.setattr(outbox, "STORE_RETRY", 0.01)
    opened = open_store(tmp_path / "selfreg.db")
    yield opened
    opened.close()


async def test_a_store_that_refuses_writes_holds_delivery_and_the_worker_outlives_it(
    refusing: Store,
) -> None:
    clock = FakeClock()
    notifier = Flaky([])
    worker = OutboxWorker(refusing, {"flaky": notifier}, clock)
    first, second = queue(refusing, "flaky", clock.now()), queue(refusing, "flaky", clock.now())
    faults: list[WriteFault] = []
    refusing.on_write_fault(faults.append)
    other = sqlite3.connect(refusing.path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # the claim cannot be written
    task = asyncio.create_task(worker.run())
    await eventually(lambda: refusing.write_error is not None, timeout=10)
    await asyncio.sleep(0.1)  # passes tried and refused
    assert notifier.delivered == [] and not task.done()
    assert refusing.write_error == "database is locked"

    other.execute("ROLLBACK")
    await eventually(lambda: len(notifier.delivered) == 2, timeout=10)
    worker.finish()
    await asyncio.wait_for(task, timeout=5)
    assert [m.id for m in notifier.delivered] == [first, second]
    with refusing.transaction():  # the next write that goes through ends the fault
        refusing.record_event("test", "", clock.now())
    # the refused claims lost nothing: their rows waited in the store
    assert [(f.error, f.refused) for f in faults] == [("database is locked", 0), (None, 0)]


async def test_a_row_whose_outcome_the_store_refused_is_tried_again_before_later_rows(
    refusing: Store,
) -> None:
    clock = FakeClock()
    notifier = LocksTheStore(str(refusing.path))
    worker = OutboxWorker(refusing, {"flaky": notifier}, clock)
    first, second = queue(refusing, "flaky", clock.now()), queue(refusing, "flaky", clock.now())
    task = asyncio.create_task(worker.run())
    await eventually(lambda: refusing.write_error is not None, timeout=10)
    await asyncio.sleep(0.1)
    assert [m.id for m in notifier.delivered] == [first] and not task.done()

    notifier.other.execute("ROLLBACK")
    await eventually(lambda: len(notifier.delivered) == 3, timeout=10)
    worker.finish()
    await asyncio.wait_for(task, timeout=5)
    # delivered at least once, never overtaken: the second row waits for the first
    assert [m.id for m in notifier.delivered] == [first, first, second]
    assert scalar(refusing, "SELECT count(*) FROM outbox WHERE delivered_at IS NULL") == 0


async def test_a_backlog_for_the_console_lets_the_loop_run_other_work_between_rows(store) -> None:
    """The console never suspends while it prints: a storm's hundreds of notices must still
    leave the loop to the checks between rows, not hold it until the last one is out."""
    clock = FakeClock()
    out = io.StringIO()
    for _ in range(20):
        queue(store, "console", clock.now())
    printed_when_run: list[int] = []

    async def another_task() -> None:
        for _ in range(5):  # bounded
            printed_when_run.append(out.getvalue().count("\n"))
            await asyncio.sleep(0)

    other = asyncio.create_task(another_task())
    await OutboxWorker(store, {"console": ConsoleNotifier(out)}, clock).deliver_due()
    await other
    assert out.getvalue().count("\n") == 20, "every row delivered"
    assert any(0 < n < 20 for n in printed_when_run), "the other task ran mid-backlog"
