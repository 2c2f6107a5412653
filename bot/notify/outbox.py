"""Step 5 of the flow: deliver outbox rows, each claimed first with a conditional UPDATE.

A row is claimed by setting ``claimed_until`` only where nobody holds it (row count 1 means
it is ours), so two workers, or a worker restarted after a crash, never deliver a row twice
at the same time. Transient failures come back after a growing delay (or the far end's
Retry-After); permanent ones are marked failed with their reason and an event row.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import Mapping

from bot import messages
from bot.clock import Clock
from bot.errors import DeliveryError, PermanentDeliveryError
from bot.notify.base import Notifier, OutboxMessage
from bot.records import EventKind
from bot.store import outbox as rows
from bot.store.db import Store, storage_refused
from bot.tally import Tally

log = logging.getLogger(__name__)

CLAIM_FOR = 60.0  # seconds a claim holds; a worker that died frees its rows after this
MAX_BACKOFF = 60.0  # after an outage, delivery resumes within a minute of the far end
IDLE_WAKE = 30.0
FINISH_WITHIN = 4.0  # at stop, rows still due are flushed for this long; the rest wait
STORE_RETRY = 1.0  # seconds between passes while the store refuses writes


def backoff(attempts: int) -> float:
    """Delay before retry number ``attempts``: 1 s, 2 s, 4 s ... up to a minute."""
    return min(2.0 ** max(attempts - 1, 0), MAX_BACKOFF)


class OutboxWorker:
    """Delivers pending rows to their channels' notifiers, oldest first."""

    def __init__(
        self,
        store: Store,
        notifiers: Mapping[str, Notifier],
        clock: Clock,
        tally: Tally | None = None,
    ) -> None:
        self.tally = tally or Tally()  # deliveries and failures by channel, for /metrics
        self.store = store
        self.notifiers = dict(notifiers)
        self.clock = clock
        self.wake = asyncio.Event()
        self.finishing = False
        self._finish_by: float | None = None
        self._channels = tuple(self.notifiers)
        self._in_hand: int | None = None
        """A claimed row whose outcome the store refused to keep: released at the next pass,
        before later rows of its channel are read (else they would overtake it)."""
        self._refused_at = 0.0  # monotonic time of the last pass the store refused

    def release_claims(self) -> int:
        """Free the rows a previous process claimed and never finished; returns how many.

        Called once at start: only one selfreg runs per data folder, so every claim still
        held belongs to a process that died (``kill -9``), and its rows are due again now
        rather than when the claim would have lapsed.
        """
        return rows.release_claims(self.store)

    def pending_count(self) -> int:
        return rows.pending_count(self.store)

    async def run(self) -> None:
        """Deliver until ``finish`` is called: after each wake-up, and at the next retry time."""
        while True:
            last_pass = self.finishing
            delay = await self._deliver_pass()
            if last_pass:  # that pass began after finish(): it was the last one
                return
            if self.finishing:  # finish() came mid-pass: one more sees rows queued since
                continue
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=delay)

    async def _deliver_pass(self) -> float:
        """``deliver_due``; while the store refuses writes (a full or read-only disk, a store
        locked by another process) the rows wait in it and a pass is tried once per
        STORE_RETRY, not at every wake-up: the worker must outlive the fault (the store
        tells /health and the console), and a locked store makes each try wait."""
        if self.store.write_error is not None:  # a run woke it: one try per STORE_RETRY
            waited = time.monotonic() - self._refused_at
            if waited < STORE_RETRY:
                return STORE_RETRY - waited
        try:
            return await self.deliver_due()
        except sqlite3.OperationalError as exc:
            if not self.store.write_refused(exc):
                raise
            self._refused_at = time.monotonic()
            return STORE_RETRY

    def finish(self) -> None:
        """Ask ``run`` to end after the row in hand: a delivery is never cut off mid-call, so
        a message Slack accepted always has its ts recorded (else a retry would post it twice)."""
        self.finishing = True
        self._finish_by = self.clock.now() + FINISH_WITHIN
        self.wake.set()

    async def deliver_due(self) -> float:
        """Deliver every row due now, in order per channel; seconds until the next is due.

        A row that failed and waits for its retry holds back the later rows of its channel,
        so a Slack outage delays messages but never reorders them. A row that is merely paced
        (an update not due yet, never tried) holds back nothing.
        """
        now = self.clock.now()
        if self._in_hand is not None:  # due again now, in its place
            self._retry(self._in_hand, 0.0, self.store.write_error or "")
            self._in_hand = None
        blocked: set[str] = set()
        for row in rows.unclaimed(self.store, self._channels, now):
            if (
                self.finishing
                and self._finish_by is not None
                and self.clock.now() > self._finish_by
            ):
                break
            channel = row["channel"]
            if channel in blocked:
                continue
            if row["next_attempt_at"] > now:
                if row["attempts"] > 0:
                    blocked.add(channel)
                continue
            if not self._claim(row["id"], now):
                continue
            message = OutboxMessage(
                id=row["id"],
                channel=channel,
                kind=row["kind"],
                ref=row["ref"],
                payload=json.loads(row["payload"]),
                attempts=row["attempts"] + 1,
            )
            if not await self._deliver(self.notifiers[channel], message):
                blocked.add(channel)
            # a notifier that never suspends (the console) must not hold the loop for a whole
            # backlog (800 incidents of one storm): the checks' runs go between its rows
            await asyncio.sleep(0)
            now = self.clock.now()
        return self._next_due()

    def _claim(self, row_id: int, now: float) -> bool:
        return rows.claim(self.store, row_id, now, now + CLAIM_FOR)

    async def _deliver(self, notifier: Notifier, message: OutboxMessage) -> bool:
        """Deliver one row; False when it must be retried later. When the store refuses to
        keep what happened (the notifier's own record, or the row's outcome), the row stays
        in hand and the pass ends with the store's error."""
        try:
            return await self._deliver_one(notifier, message)
        except sqlite3.OperationalError as exc:
            if self.store.write_refused(exc):
                self._in_hand = message.id
            raise

    async def _deliver_one(self, notifier: Notifier, message: OutboxMessage) -> bool:
        try:
            await notifier.deliver(message)
        except PermanentDeliveryError as exc:
            self.tally.add("delivery_failures", channel=message.channel, kind="permanent")
            log.error(messages.row_failed_for_good(message.id, message.channel, exc.reason))
            now = self.clock.now()
            with self.store.transaction():
                rows.mark_failed(self.store, message.id, now, exc.reason)
                self.store.record_event(
                    EventKind.DELIVERY_FAILED,
                    message.channel,
                    now,
                    outbox_id=message.id,
                    error=exc.reason,
                )
            return True  # recorded for good: later rows are not held back by it
        except DeliveryError as exc:
            self.tally.add("delivery_failures", channel=message.channel, kind="transient")
            delay = exc.retry_after if exc.retry_after is not None else backoff(message.attempts)
            log.warning(messages.row_retrying(message.id, message.channel, exc.reason, delay))
            self._retry(message.id, delay, exc.reason)
            return False
        except Exception as exc:  # an unexpected bug in a notifier must not stop delivery
            if storage_refused(exc):
                raise
            self.tally.add("delivery_failures", channel=message.channel, kind="transient")
            log.exception(messages.row_raised(message.id, message.channel))
            self._retry(message.id, backoff(message.attempts), f"{type(exc).__name__}: {exc}")
            return False
        else:
            rows.mark_delivered(self.store, message.id, self.clock.now())
            self.tally.add("deliveries", channel=message.channel)
        return True

    def _retry(self, row_id: int, delay: float, reason: str) -> None:
        rows.retry_at(self.store, row_id, self.clock.now() + delay, reason)

    def _next_due(self) -> float:
        due = rows.next_due(self.store, self._channels)
        if due is None:
            return IDLE_WAKE
        return min(max(due - self.clock.now(), 0.05), IDLE_WAKE)
