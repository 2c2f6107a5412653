"""When each check of an interval starts: the checks that open connections to one server
queue in a line and go two at a time.

Started all at once, 20 or more connections reach a server at the same instant, and a small
one (Python's ``http.server`` listens with a backlog of 5) drops the SYNs it has no room for;
each dropped SYN costs a 1 s retransmit, which the check would report as a slow or timed-out
endpoint. So the checks of one server start in name order (the same config always gives a
check the same place), two to a slot. The next slot opens as soon as the checks of the one
before have ended, so a server never has more than two of an interval's connections waiting
to be accepted, or after a slot's time at the latest, so a server that answers slowly still
sees every check start within the first tenth of the interval (at most 200 ms), slots at
least 5 ms apart: a listen queue of 5 takes two lines at once (two intervals' rounds on the
same moment; four measured fine, eight overflow it).

A slot opened because the slot before ended costs no wake-up of the loop: it opens from the
last check's end, and the line's checks run back to back. Timed slots cost one each, and
cold caches with it: 50 checks of one HTTP/1.0 server cost 0.565 to 0.630 ms of CPU each
started 5 ms apart, 0.405 to 0.440 ms in line (``bench/http_checks.py --fresh``,
docs/benchmarks.md). A server with at most two checks has no line: they start at once, like
the checks of other servers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

SPREAD_SHARE = 0.1  # an interval's checks start within this share of it ...
SPREAD_MAX = 0.2  # ... and within this many seconds
SPREAD_SLOT = 0.005  # a slot lasts at least this long ...
SPREAD_PER_SLOT = 2  # ... and holds up to this many checks


class StartLine:
    """The checks of one server in one round, in slots that open one after the other.

    A check awaits ``turn`` before it starts and calls ``ended`` once it has; the first slot
    is open from the start. The line holds a timer only while a slot is open and another
    waits behind it."""

    def __init__(self, slots: list[list[str]], slot_time: float) -> None:
        self.slots = slots
        self.slot_time = slot_time
        self.place = {name: index for index, slot in enumerate(slots) for name in slot}
        self.opened = 0  # the latest slot opened
        self._running = len(slots[0])  # checks of the latest slot that have not ended
        self._gates: dict[int, asyncio.Future[None]] = {}
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Open the first slot (on the running loop): arm the timer for the second."""
        self._arm()

    async def turn(self, name: str) -> None:
        """Wait until ``name``'s slot is open."""
        slot = self.place[name]
        if slot <= self.opened:
            return
        gate = self._gates.get(slot)
        if gate is None:
            gate = self._gates[slot] = asyncio.get_running_loop().create_future()
        await gate

    def ended(self, name: str) -> None:
        """``name`` ran (or will not): the last of the open slot to end opens the next."""
        if self.place[name] != self.opened:
            return  # a slot the timer opened past, or one cancelled before its turn
        self._running -= 1
        if self._running <= 0:
            self._open_next()

    def _open_next(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.opened + 1 >= len(self.slots):
            return
        self.opened += 1
        self._running = len(self.slots[self.opened])
        gate = self._gates.pop(self.opened, None)
        if gate is not None and not gate.done():
            gate.set_result(None)
        self._arm()

    def _arm(self) -> None:
        if self.opened + 1 < len(self.slots):
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.slot_time, self._open_next)


def start_lines(servers: Mapping[str, str], interval: float) -> dict[str, StartLine]:
    """Each check's line, started on the running loop (``servers``: check name -> the server
    it will connect to, ``Check.server``); checks of a server with at most two have none and
    start at once."""
    by_server: dict[str, list[str]] = {}
    for name, server in servers.items():
        by_server.setdefault(server, []).append(name)
    window = min(interval * SPREAD_SHARE, SPREAD_MAX)
    lines: dict[str, StartLine] = {}
    for names in by_server.values():
        if len(names) <= SPREAD_PER_SLOT:
            continue
        count = max(1, min(-(-len(names) // SPREAD_PER_SLOT), int(window / SPREAD_SLOT)))
        ordered = sorted(names)
        slots: list[list[str]] = [[] for _ in range(count)]
        for rank, name in enumerate(ordered):
            slots[rank * count // len(ordered)].append(name)
        line = StartLine(slots, window / count)
        line.start()
        for name in ordered:
            lines[name] = line
    return lines
