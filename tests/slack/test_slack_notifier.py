"""bot/slack/delivery.py in process: SlackNotifier behind the real OutboxWorker, fake clock.

Mirrors tests/scenarios/test_slack_delivery.py and the message life of
tests/scenarios/test_slack_incidents.py without a child process: one message per incident,
updated in place, replies in its thread; a 429 or an outage delays a row (never drops or
reorders it); a restart that finds its ``slack_posts`` row looks the message up instead of
posting it twice. Retry delays run on the fake clock, so nothing here sleeps them.
"""

from __future__ import annotations

import asyncio
import contextlib

from bot.records import EventKind
from tests.support.slack_inprocess import Selfreg, eventually, read_rows
from tests.support.slack_selfreg import CHANNEL, block_text


async def test_one_message_per_incident_updated_in_place_with_replies_in_its_thread(
    selfreg: Selfreg,
) -> None:
    await selfreg.run_checks()
    [message] = selfreg.top_level()
    incident = selfreg.incident()
    assert incident.slack_ts == message.ts and incident.slack_channel == CHANNEL
    assert "CRITICAL  db is failing" in block_text(message)
    assert message.text.startswith("🔴 CRITICAL  db is failing")

    selfreg.clock.advance(1.0)  # update_every: a repeat updates the message once it is due
    await selfreg.run_checks()
    assert [m.ts for m in selfreg.top_level()] == [message.ts], "updated, not posted again"
    assert len(selfreg.emu.history(CHANNEL, message.ts)) == 2
    assert [c.args["ts"] for c in selfreg.emu.calls("chat.update")] == [message.ts]

    with selfreg.store.transaction():
        selfreg.alerting.reply(incident.id, "restarted db by hand")
    await selfreg.deliver()
    [reply] = selfreg.emu.thread(CHANNEL, message.ts)
    assert reply.thread_ts == message.ts and "restarted db by hand" in reply.text
    assert len(selfreg.top_level()) == 1
    assert all(r["delivered_at"] is not None for r in selfreg.outbox_rows())


async def test_a_429_delays_the_row_by_retry_after_and_then_delivers_it(
    selfreg: Selfreg,
) -> None:
    selfreg.emu.fail("chat.postMessage", status=429, retry_after=1, times=1)
    await selfreg.run_checks()
    assert selfreg.top_level() == []
    [row] = selfreg.outbox_rows()
    assert row["delivered_at"] is None and row["failed_at"] is None
    assert row["attempts"] == 1 and row["last_error"] == "ratelimited"
    assert row["next_attempt_at"] == selfreg.clock.now() + 1.0, "Retry-After is honoured"
    assert selfreg.notifier.last_error == "ratelimited"

    with selfreg.store.transaction():  # a new notice on the incident while the row waits
        selfreg.alerting.reply(selfreg.incident().id, "looking into it")
    [row, _reply] = selfreg.outbox_rows()
    assert row["next_attempt_at"] == selfreg.clock.now() + 1.0, "still Retry-After"
    await selfreg.deliver()  # not due yet: no second call
    assert [c.status for c in selfreg.emu.calls("chat.postMessage")] == [429]

    selfreg.clock.advance(1.0)
    await selfreg.deliver()
    assert len(selfreg.top_level()) == 1
    assert all(r["delivered_at"] is not None for r in selfreg.outbox_rows())
    assert selfreg.outbox_rows()[0]["last_error"] is None
    assert selfreg.notifier.last_error is None


async def test_slack_down_then_back_delays_but_loses_and_reorders_nothing(
    selfreg: Selfreg,
) -> None:
    selfreg.emu.fail("chat.postMessage", status=503, times=2)
    await selfreg.run_checks()
    with selfreg.store.transaction():
        selfreg.alerting.reply(selfreg.incident().id, "looking into it")
    await selfreg.deliver()  # the reply waits behind the message it belongs under
    assert selfreg.emu.messages(CHANNEL) == []
    sync, reply = selfreg.outbox_rows()
    assert sync["attempts"] == 1 and sync["last_error"] and sync["failed_at"] is None
    assert sync["next_attempt_at"] > selfreg.clock.now(), "the back-off holds after the reply"
    assert reply["attempts"] == 0, "held back behind the failed row: order is kept"

    for _ in range(4):  # back-off 1 s, then 2 s: bounded, on the fake clock
        if selfreg.top_level():
            break
        selfreg.clock.advance(2.0)
        await selfreg.deliver()
    [message] = selfreg.top_level()
    [reply] = selfreg.emu.thread(CHANNEL, message.ts)
    assert "looking into it" in reply.text
    assert sum(1 for c in selfreg.emu.calls() if c.status == 503) == 2
    assert all(r["failed_at"] is None for r in selfreg.outbox_rows())


async def test_a_channel_that_does_not_exist_fails_the_row_for_good_with_its_reason(
    selfreg: Selfreg,
) -> None:
    selfreg.emu.fail("chat.postMessage", error="channel_not_found", times=1)
    await selfreg.run_checks()
    [row] = selfreg.outbox_rows()
    assert row["failed_at"] is not None and row["last_error"] == "channel_not_found"
    assert selfreg.notifier.last_error == "channel_not_found"
    events = read_rows(selfreg.store, "SELECT kind, detail FROM events WHERE subject = 'slack'")
    assert [e["kind"] for e in events] == [EventKind.DELIVERY_FAILED]


async def test_blocks_slack_rejects_fall_back_to_text(selfreg: Selfreg) -> None:
    selfreg.emu.fail(
        "chat.postMessage", error="invalid_blocks", times=1, when=lambda a: bool(a.get("blocks"))
    )
    await selfreg.run_checks()
    [message] = selfreg.top_level()
    assert message.text.startswith("🔴 CRITICAL  db is failing")
    assert message.blocks == [] or block_text(message) == ""


async def test_a_restart_finds_a_post_whose_answer_never_came_instead_of_posting_twice(
    selfreg: Selfreg,
) -> None:
    selfreg.emu.delay_reply("chat.postMessage", 0.5, times=1)  # posted; the answer comes late
    first = asyncio.create_task(selfreg.run_checks())
    [posted] = await eventually(selfreg.top_level)
    first.cancel()  # selfreg dies while it still waits for the ts
    with contextlib.suppress(asyncio.CancelledError):
        await first
    assert selfreg.incident().slack_ts is None
    pending = read_rows(selfreg.store, "SELECT key FROM slack_posts")
    assert [p["key"] for p in pending] == [f"incident:{selfreg.incident().id}"]

    assert selfreg.restart_delivery() == 1, "the dead worker's claim is released"
    await selfreg.deliver()
    assert selfreg.emu.calls("conversations.history"), "looked up, not posted again"
    assert [c.args["ts"] for c in selfreg.emu.calls("chat.update")] == [posted.ts]
    assert [m.ts for m in selfreg.top_level()] == [posted.ts]
    assert selfreg.incident().slack_ts == posted.ts
    assert read_rows(selfreg.store, "SELECT key FROM slack_posts") == []
