"""An interval's checks of one server start spread over its first tenth, so a small server
with Python's default listen backlog of 5 never drops a SYN (each dropped SYN costs a 1 s retransmit,
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
from checks.logfile import LogfileCheck, LogfileSpec
from checks.selfreg import SelfregCheck, SelfregSpec
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
    servers = {f"api-{n}": "127.0.0.1:8080" for n in range(CHECKS)}
    offsets = start_offsets(servers, 1.0)
    assert offsets == start_offsets(dict(reversed(servers.items())), 1.0)
    assert min(offsets.values()) == 0.0 and max(offsets.values()) < 0.1
    assert len(set(offsets.values())) >= 15  # at most two checks share a moment
    assert max(start_offsets(servers, 60.0).values()) < 0.2  # at most 200 ms, however long


def test_only_checks_of_the_same_server_are_spread() -> None:
    """Checks of different servers cannot overflow one listen queue: they start together
    (a spread start is a wake-up of the loop, which costs CPU); each server's share of a
    crowd is spread on its own."""
    alone = {f"api-{n}": f"127.0.0.1:{9000 + n}" for n in range(50)}
    assert set(start_offsets(alone, 5.0).values()) == {0.0}
    pair = {"a": "db:5432", "b": "db:5432"}
    assert start_offsets(pair, 5.0) == {"a": 0.0, "b": 0.0}  # two share a slot
    crowd = {f"web-{n}": "web:80" for n in range(10)} | {"db": "db:5432"}
    offsets = start_offsets(crowd, 1.0)
    assert offsets["db"] == 0.0
    assert len({offsets[f"web-{n}"] for n in range(10)}) == 5


async def test_only_checks_that_will_open_a_connection_are_spread(small_server) -> None:
    """An endpoint that keeps its connection alive is reused, not reconnected: its check
    starts at once (each spread start costs a wake-up of the loop); one that closes after
    each answer, or has not answered yet, is spread."""
    async with http_server() as kept_alive_base, make_http_session() as http:
        kept = HttpCheck(HttpSpec(kind="http", name="kept", url=f"{kept_alive_base}/ok"))
        closed = HttpCheck(HttpSpec(kind="http", name="closed", url=f"{small_server}/ok"))
        assert kept.server and closed.server  # nothing known before a first answer
        for check in (kept, closed):
            [observation] = await check.run(make_context(http))
            assert observation.status is Status.OK
        assert kept.server is None and closed.server == small_server.removeprefix("http://")


def test_kinds_that_read_only_local_state_are_never_spread() -> None:
    """selfreg's own figures and a log file open no connection: a storm of 800 selfreg
    checks would otherwise start in 20 slots, each its own transaction (bench/load.py)."""
    own = SelfregCheck(SelfregSpec(kind="selfreg", name="me"))
    log = LogfileCheck(
        LogfileSpec(kind="logfile", name="log", paths=["x"], patterns=[{"regex": "ERROR"}])
    )
    assert own.server is None and log.server is None
