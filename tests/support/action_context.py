"""A real ``ActionContext`` for action tests, over real child processes and a real session.

``ChildComponents`` is a tiny supervisor: each component is an argv, each instance a child
started with ``asyncio.create_subprocess_exec``. ``Children`` starts the processes a test
signals or renices, waits until each runs, and kills and reaps whatever is left at the end.
``action_context`` yields a context whose ``matched_pids`` answers what the test registered
with ``ctx.match(check, pids)``, as a ``process`` check's latest run would have.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import sys
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any

import aiohttp

Process = asyncio.subprocess.Process
SLEEPER = "import time; print('ready', flush=True); time.sleep(60)"


async def _end(proc: Process) -> None:
    """Terminate, then kill after 5 s; always reaped."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            proc.kill()
            await proc.wait()


class ChildComponents:
    """``ComponentControls`` over real children; a name not configured raises ``LookupError``."""

    def __init__(self, commands: Mapping[str, Sequence[str]]) -> None:
        self._commands = {name: list(argv) for name, argv in commands.items()}
        self._running: dict[str, list[Process]] = {name: [] for name in commands}

    def pids(self, name: str) -> list[int]:
        return [proc.pid for proc in self._alive(name)]

    def _alive(self, name: str) -> list[Process]:
        if name not in self._commands:
            raise LookupError(f"no component named {name}")
        self._running[name] = [p for p in self._running[name] if p.returncode is None]
        return self._running[name]

    async def _spawn(self, name: str) -> Process:
        proc = await asyncio.create_subprocess_exec(
            *self._commands[name],
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
        )
        self._running[name].append(proc)
        return proc

    async def restart(self, name: str) -> str:
        old = self.pids(name)
        await self.stop(name)
        new = [(await self._spawn(name)).pid for _ in range(max(1, len(old)))]
        return f"pid {', '.join(map(str, old)) or 'none'} -> {', '.join(map(str, new))}"

    async def stop(self, name: str) -> str:
        procs = list(self._alive(name))
        await asyncio.gather(*(_end(p) for p in procs))
        return f"stopped pid {', '.join(str(p.pid) for p in procs)}" if procs else "not running"

    async def start(self, name: str) -> str:
        if alive := self.pids(name):
            return f"already running (pid {', '.join(map(str, alive))})"
        return f"started pid {(await self._spawn(name)).pid}"

    async def scale(self, name: str, instances: int) -> str:
        before = len(self._alive(name))
        while len(self._alive(name)) < instances:
            await self._spawn(name)
        while len(procs := self._alive(name)) > instances:
            await _end(procs[-1])
        return f"{before} -> {instances} instances"

    def instances(self, name: str) -> int:
        return len(self._alive(name))

    async def close(self) -> None:
        await asyncio.gather(*(_end(p) for procs in self._running.values() for p in procs))


class Children:
    """Real processes a test acts on; each has printed ``ready`` before ``start`` returns."""

    def __init__(self) -> None:
        self._procs: list[Process] = []

    async def start(self, code: str = SLEEPER) -> Process:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", code, stdout=asyncio.subprocess.PIPE
        )
        self._procs.append(proc)
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 10)
        assert line.strip() == b"ready", line
        return proc

    async def close(self) -> None:
        await asyncio.gather(*(_end(p) for p in self._procs))


class RealActionContext:
    """Implements ``actions.base.ActionContext`` with real parts."""

    def __init__(self, http: aiohttp.ClientSession, components: ChildComponents) -> None:
        self._http = http
        self._components = components
        self._matches: dict[str, list[int]] = {}
        self._logger = logging.getLogger("selfreg.action.test")
        self.subject = ""
        self.states: dict[str, dict[str, Any]] = {}

    @property
    def components(self) -> ChildComponents:
        return self._components

    @property
    def http(self) -> aiohttp.ClientSession:
        return self._http

    @property
    def logger(self) -> logging.Logger:
        return self._logger

    def now(self) -> float:
        return time.time()

    def matched_pids(self, check: str) -> Sequence[int]:
        return tuple(self._matches.get(check, ()))

    def check_state(self, check: str) -> Mapping[str, Any]:
        """What a test put in ``states[check]``, as the check's committed state."""
        return self.states.get(check, {})

    def for_subject(self, subject: str) -> RealActionContext:
        """This context answering an incident on ``subject`` (shared parts, like the engine's)."""
        narrowed = copy.copy(self)
        narrowed.subject = subject
        return narrowed

    def match(self, check: str, pids: Iterable[int]) -> None:
        """Register what the named process check matched on its latest run."""
        self._matches[check] = list(pids)


@contextlib.asynccontextmanager
async def action_context(
    components: Mapping[str, Sequence[str]] | None = None,
) -> AsyncIterator[RealActionContext]:
    """A context with its own HTTP session and components, all closed and reaped afterwards."""
    controls = ChildComponents(components or {})
    async with aiohttp.ClientSession() as http:
        try:
            yield RealActionContext(http, controls)
        finally:
            await controls.close()
