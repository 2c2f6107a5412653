"""An interval's checks of one server start in line, two at a time, all within its first tenth,
so a small server with Python's default listen backlog of 5 never drops a SYN (each dropped SYN
costs a 1 s retransmit, which the check would report as a slow or timed-out endpoint)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator

import pytest

from bot.clock import SystemClock
from bot.engine.runner import CheckRunner
from bot.engine.start_lines import StartLine, start_lines
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


def slots_of(servers: dict[str, str], interval: float) -> dict[str, tuple[int, float]]:
    """Each lined check's (slot, slot time), on the running loop."""
    lines = start_lines(servers, interval)
    return {name: (line.place[name], line.slot_time) for name, line in lines.items()}


async def test_a_servers_checks_start_two_at_a_time_within_a_tenth_of_the_interval() -> None:
    servers = {f"api-{n}": "127.0.0.1:8080" for n in range(CHECKS)}
    planned = slots_of(servers, 1.0)
    assert planned == slots_of(dict(reversed(servers.items())), 1.0)  # the same place each time
    slots = Counter(slot for slot, _ in planned.values())
    assert len(slots) == 15 and set(slots.values()) == {2}
    [slot_time] = {time for _, time in planned.values()}
    assert len(slots) * slot_time <= 0.1  # the last slot opens within the first tenth
    long = slots_of(servers, 60.0)
    assert len({s for s, _ in long.values()}) * next(iter(long.values()))[1] <= 0.2  # 200 ms


async def test_only_checks_of_the_same_server_are_lined() -> None:
    """Checks of different servers cannot overflow one listen queue: they start together;
    each server's share of a crowd is lined on its own."""
    alone = {f"api-{n}": f"127.0.0.1:{9000 + n}" for n in range(50)}
    assert slots_of(alone, 5.0) == {}
    assert slots_of({"a": "db:5432", "b": "db:5432"}, 5.0) == {}  # two start at once
    crowd = {f"web-{n}": "web:80" for n in range(10)} | {"db": "db:5432"}
    planned = slots_of(crowd, 1.0)
    assert "db" not in planned
    assert len({slot for slot, _ in planned.values()}) == 5


async def test_the_next_slot_opens_as_soon_as_the_one_before_has_ended() -> None:
    """A server that answers fast sees its checks back to back, two at a time, with no
    timer in between (each timed start is a wake-up of the loop)."""
    line = StartLine([["a", "b"], ["c", "d"], ["e"]], slot_time=30.0)
    line.start()
    running: set[str] = set()
    most = 0

    async def check(name: str) -> None:
        nonlocal most
        await line.turn(name)
        running.add(name)
        most = max(most, len(running))
        await asyncio.sleep(0.001)
        running.discard(name)
        line.ended(name)

    async with asyncio.timeout(5):  # a timed slot would take 30 s
        await asyncio.gather(*(check(name) for name in "edcba"))
    assert most == 2 and line.opened == 2


async def test_a_slot_that_hangs_holds_the_line_only_for_its_time() -> None:
    """A server that drops a SYN (a 1 s retransmit) or answers slowly still sees every check
    start within the first tenth of the interval: the next slot opens on time."""
    line = StartLine([["slow"], ["next"]], slot_time=0.02)
    line.start()
    started = asyncio.get_running_loop().time()
    async with asyncio.timeout(5):
        await line.turn("slow")  # starts and never ends
        await line.turn("next")
    waited = asyncio.get_running_loop().time() - started
    assert 0.015 <= waited < 1.0
    line.ended("slow")  # late: the line has moved on
    line.ended("next")
    assert line.opened == 1


async def test_only_checks_that_will_open_a_connection_are_lined(small_server) -> None:
    """An endpoint that keeps its connection alive is reused, not reconnected: its check
    starts at once; one that closes after each answer, or has not answered yet, is lined."""
    async with http_server() as kept_alive_base, make_http_session() as http:
        kept = HttpCheck(HttpSpec(kind="http", name="kept", url=f"{kept_alive_base}/ok"))
        closed = HttpCheck(HttpSpec(kind="http", name="closed", url=f"{small_server}/ok"))
        assert kept.server and closed.server  # nothing known before a first answer
        for check in (kept, closed):
            [observation] = await check.run(make_context(http))
            assert observation.status is Status.OK
        assert kept.server is None and closed.server == small_server.removeprefix("http://")


def test_kinds_that_read_only_local_state_are_never_lined() -> None:
    """selfreg's own figures and a log file open no connection: a storm of 800 selfreg
    checks would otherwise start in 20 slots (bench/load.py)."""
    own = SelfregCheck(SelfregSpec(kind="selfreg", name="me"))
    log = LogfileCheck(
        LogfileSpec(kind="logfile", name="log", paths=["x"], patterns=[{"regex": "ERROR"}])
    )
    assert own.server is None and log.server is None
