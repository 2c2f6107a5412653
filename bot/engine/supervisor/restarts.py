"""When an exited component instance is started again: plain functions of ``now``.

The first restart after a stable run happens at once (a crash is usually a one-off, and a
supervisor that waits only adds downtime). Quick exits back off: ``restart_delay``, then
doubling up to ``restart_backoff_max``. Many exits within the crash-loop window stop the
automatic restarts altogether, so a broken build does not spin forever.
"""

from __future__ import annotations

from collections import deque

from bot import messages
from bot.config import ComponentSettings
from bot.engine.transitions import fingerprint
from bot.records import IncidentKind, Severity, Transition
from checks.base import Status


def wants_restart(settings: ComponentSettings, exit_code: int | None) -> bool:
    """True when the restart policy asks for a restart after this exit.

    An adopted process's exit code cannot be read (it is not selfreg's child): ``None`` counts
    as a failure, so ``on-failure`` restarts it.
    """
    if settings.restart == "never":
        return False
    return settings.restart == "always" or exit_code != 0


def next_delay(settings: ComponentSettings, previous: float | None, lived: float) -> float:
    """The wait before the next restart, given the previous wait (None: no restart yet).

    An instance that stayed up ``stable_after`` seconds starts over at no wait at all.
    """
    if previous is None or lived >= settings.stable_after:
        return 0.0
    grown = settings.restart_delay if previous == 0 else previous * 2
    return min(grown, settings.restart_backoff_max)


class ExitWindow:
    """Exit times of one component (all its instances) within the crash-loop window."""

    def __init__(self, exits: int, window: float) -> None:
        self.exits = exits
        self.window = window
        self._times: deque[float] = deque()

    def add(self, now: float) -> bool:
        """Count an exit at ``now``; True when this makes a crash loop."""
        self._times.append(now)
        while self._times and self._times[0] <= now - self.window:
            self._times.popleft()
        return len(self._times) >= self.exits

    def count(self) -> int:
        return len(self._times)

    def clear(self) -> None:
        self._times.clear()


def crash_loop_fingerprint(name: str) -> str:
    """The fingerprint of component ``name``'s crash-loop incident."""
    return fingerprint(f"component:{name}", "", IncidentKind.CRASH_LOOP)


def crash_loop_transition(name: str, exits: int, window: float, now: float) -> Transition:
    """A crash loop as alerting hears it: a failing transition of kind crash loop, whose
    incident asks a person what now (*Restart anyway* / *Keep stopped*)."""
    return Transition(
        fingerprint=crash_loop_fingerprint(name),
        check=f"component:{name}",
        subject="",
        kind=IncidentKind.CRASH_LOOP,
        previous=Status.OK,
        current=Status.CRITICAL,
        severity=Severity.ERROR,
        summary=messages.crash_loop(name, exits, window),
        at=now,
    )
