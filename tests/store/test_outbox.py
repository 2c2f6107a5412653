"""bot.store.outbox: queue, coalesce, claim, deliver, retry, fail, and the /status list."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.store import Store, open_store, outbox
from tests.support.db import rows

T0 = 1_700_000_000.0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(tmp_path / "selfreg.db")
    yield opened
    opened.close()


def queue(store: Store, channel: str = "slack", ref: int = 1, due: float = T0) -> None:
    with store.transaction():
        outbox.enqueue(
            store, channel=channel, kind="incident.sync", ref=ref, payload={}, due=due, now=T0
        )


def test_a_queued_row_is_pending_and_due_for_its_channel_only(store: Store) -> None:
    queue(store, "slack")
    queue(store, "email", due=T0 + 5)
    assert outbox.pending_count(store) == 2
    assert [r["channel"] for r in outbox.unclaimed(store, ["slack"], T0)] == ["slack"]
    assert outbox.next_due(store, ["email"]) == T0 + 5
    assert outbox.next_due(store, []) is None


def test_a_pending_row_is_hastened_instead_of_queued_twice(store: Store) -> None:
    queue(store, due=T0 + 60)
    assert outbox.hasten_pending(store, channel="slack", kind="incident.sync", ref=1, due=T0)
    assert not outbox.hasten_pending(store, channel="slack", kind="incident.sync", ref=2, due=T0)
    assert [r["next_attempt_at"] for r in rows(store, "SELECT * FROM outbox")] == [T0]


def test_a_row_that_failed_keeps_its_retry_time_when_a_change_coalesces_into_it(
    store: Store,
) -> None:
    queue(store, due=T0)
    [row] = outbox.unclaimed(store, ["slack"], T0)
    assert outbox.claim(store, row["id"], T0, T0 + 60)
    outbox.retry_at(store, row["id"], T0 + 30, "ratelimited")  # Retry-After: 30 s
    assert outbox.hasten_pending(store, channel="slack", kind="incident.sync", ref=1, due=T0)
    [kept] = rows(store, "SELECT * FROM outbox")
    assert kept["next_attempt_at"] == T0 + 30, "the retry time is not brought forward"
    assert outbox.pending_count(store) == 1, "coalesced: still one row"


def test_a_claim_is_taken_once_and_released_at_start(store: Store) -> None:
    queue(store)
    [row] = outbox.unclaimed(store, ["slack"], T0)
    assert outbox.claim(store, row["id"], T0, T0 + 60)
    assert not outbox.claim(store, row["id"], T0 + 1, T0 + 61), "held by the first claim"
    assert outbox.unclaimed(store, ["slack"], T0 + 1) == []
    assert outbox.release_claims(store) == 1
    assert len(outbox.unclaimed(store, ["slack"], T0 + 1)) == 1


def test_delivered_retried_and_failed_rows(store: Store) -> None:
    for ref in (1, 2, 3):
        queue(store, ref=ref)
    outbox.mark_delivered(store, 1, T0 + 1)
    outbox.retry_at(store, 2, T0 + 30, "timeout")
    with store.transaction():
        outbox.mark_failed(store, 3, T0 + 2, "channel_not_found")
    assert outbox.pending_count(store) == 1
    assert outbox.next_due(store, ["slack"]) == T0 + 30
    [failed] = outbox.failed_deliveries(store, since=T0)
    assert failed["id"] == 3 and failed["last_error"] == "channel_not_found"
    assert outbox.failed_deliveries(store, since=T0 + 3) == []
