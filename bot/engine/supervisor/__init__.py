"""Supervised components: started in order, restarted at once, re-adopted after a crash.

core.py        Supervisor lifecycle: start (adopt or spawn), watch, restart, stop
controls.py    Supervisor: restart / stop / start / scale / crash-loop buttons; reconfigure
restarts.py    restart policy, back-off, the crash-loop window and its transition (plain functions)
processes.py   spawning, process identity, handles for own and adopted processes
readiness.py   the health probe (http, tcp, process) and waiting until ready
logs.py        output files and their copy-then-truncate rotation
rows.py        the store rows (per instance, per component) and events, via bot.store.components
events.py      the supervisor's event kinds
strays.py      at start: stop what an earlier selfreg left for components no longer configured
state.py       what is known of each component and instance
reconfigure.py a config reload's plan: start added, stop removed, restart changed (pure)
"""

from __future__ import annotations

from bot.engine.supervisor.controls import Supervisor
from bot.engine.supervisor.core import CrashLoopHook, SupervisorEvent
from bot.engine.supervisor.processes import resolve_command
from bot.errors import BadInstanceCount, UnknownComponent

__all__ = [
    "BadInstanceCount",
    "CrashLoopHook",
    "Supervisor",
    "SupervisorEvent",
    "UnknownComponent",
    "resolve_command",
]
