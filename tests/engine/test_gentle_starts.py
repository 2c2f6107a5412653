"""An interval's checks start spread over its first tenth, so a small server with Python's
default listen backlog of 5 never drops a SYN (each dropped SYN costs a 1 s retransmit,
which the check would report as a slow or timed-out endpoint)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from bot.clock import SystemClock
from bot.engine.rounds import start_offsets
from bot.engine.runner import CheckRunner
from bot.runtime import make_http_session
from checks.base import Status
from checks.http import HttpCheck, HttpSpec
from tests.support.check_context import make_context
from tests.support.servers import http_server, small_http_server

CHECKS = 30
ROUNDS = 3


@pytest.fixture
def small_server() -> Iterator[str]:
    server = small_http_server(backlog=5)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


async def test_thirty_checks_at_one_interval_never_meet_a_dropped_syn(store, small_server):
    checks = [
        HttpCheck(HttpSpec(kind="http", name=f"api-{n}", url=f"{small_server}/{n}", interval=1))
        for n in range(CHECKS)
    ]
    async with make_http_session() as http:
        runner = CheckRunner(checks=checks, store=store, clock=SystemClock(), http=http)
        slowest = 0.0
        for _ in range(ROUNDS):
            await runner.run_interval(1.0)
            # a check past the round's deadline is recorded when it ends: wait for it (bounded)
            await asyncio.wait_for(asyncio.gather(*runner.in_flight.values()), timeout=10)
            await asyncio.sleep(0)  # its record runs from the task's done callback
            states = [runner.latest[(f"api-{n}", "")] for n in range(CHECKS)]
            assert {s.status for s in states} == {Status.OK}, [s.summary for s in states]
            slowest = max(slowest, *(s.values["latency"] for s in states))
    # a SYN retransmit is 1 s: a latency that long means the server dropped a connection
    assert slowest < 1.0


def test_starts_are_spread_over_a_tenth_of_the_interval_the_same_way_each_time() -> None:
    names = [f"api-{n}" for n in range(CHECKS)]
    offsets = start_offsets(names, 1.0)
    assert offsets == start_offsets(list(reversed(names)), 1.0)
    assert min(offsets.values()) == 0.0 and max(offsets.values()) < 0.1
    assert len(set(offsets.values())) >= 15  # at most two checks share a moment
    assert max(start_offsets(names, 60.0).values()) < 0.2  # at most 200 ms, however long


async def test_only_checks_that_will_open_a_connection_are_spread(small_server) -> None:
    """An endpoint that keeps its connection alive is reused, not reconnected: its check
    starts at once (each spread start costs a wake-up of the loop); one that closes after
    each answer, or has not answered yet, is spread."""
    async with http_server() as kept_alive_base, make_http_session() as http:
        kept = HttpCheck(HttpSpec(kind="http", name="kept", url=f"{kept_alive_base}/ok"))
        closed = HttpCheck(HttpSpec(kind="http", name="closed", url=f"{small_server}/ok"))
        assert kept.connects and closed.connects  # nothing known before a first answer
        for check in (kept, closed):
            [observation] = await check.run(make_context(http))
            assert observation.status is Status.OK
        assert not kept.connects and closed.connects
