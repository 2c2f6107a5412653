"""Supervised components: start them, learn of an exit at once, restart by policy.

Each component runs under a task that awaits its process (no polling), so an exit is seen
the moment it happens. Restarts back off: the first after ``restart_delay``, doubling while
the component keeps dying within ``STABLE_AFTER`` seconds, up to ``MAX_DELAY``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from bot.clock import Clock
from bot.config import ComponentSettings
from bot.engine.records import EventKind
from bot.store.db import Store

log = logging.getLogger(__name__)

STABLE_AFTER = 10.0
MAX_DELAY = 60.0


@dataclass(kw_only=True)
class ComponentState:
    """What the supervisor knows of one component right now."""

    settings: ComponentSettings
    process: asyncio.subprocess.Process | None = None
    status: str = "stopped"
    started_at: float | None = None
    restarts: int = 0
    last_exit_code: int | None = None
    delay: float = 0.0
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process and self.process.returncode is None else None


def resolve_command(command: list[str]) -> list[str]:
    """A first word ``python`` means this interpreter, so examples work in any virtualenv."""
    if command[0] == "python":
        return [sys.executable, *command[1:]]
    return list(command)


class Supervisor:
    """Starts, watches, restarts and stops the configured components."""

    def __init__(
        self,
        components: list[ComponentSettings],
        store: Store,
        clock: Clock,
        log_dir: Path,
        base_dir: Path,
    ) -> None:
        self.base_dir = base_dir
        self.store = store
        self.clock = clock
        self.log_dir = log_dir
        self.components = {c.name: ComponentState(settings=c) for c in components}
        self._stopping = False

    async def start(self) -> None:
        """Start every component in declared order."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for state in self.components.values():
            state.delay = state.settings.restart_delay
            await self._spawn(state)
            state.task = asyncio.create_task(
                self._watch(state), name=f"component:{state.settings.name}"
            )

    async def _spawn(self, state: ComponentState) -> None:
        settings = state.settings
        log_file = (self.log_dir / f"{settings.name}.log").open("ab")
        try:
            state.process = await asyncio.create_subprocess_exec(
                *resolve_command(settings.command),
                cwd=self.base_dir / (settings.cwd or "."),
                env={**os.environ, **settings.env},
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log_file,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            state.process, state.status = None, "failed"
            log.error("component %s could not start: %s", settings.name, exc)
            self._save(state, EventKind.COMPONENT_EXITED, error=str(exc))
            return
        finally:
            log_file.close()
        state.status, state.started_at = "running", self.clock.now()
        log.info("component %s started, pid %s", settings.name, state.process.pid)
        self._save(state, EventKind.COMPONENT_STARTED, pid=state.process.pid)

    async def _watch(self, state: ComponentState) -> None:
        settings = state.settings
        while not self._stopping:
            if state.process is not None:
                code = await state.process.wait()
                if self._stopping:
                    return
                state.last_exit_code, state.status = code, "exited"
                lived = self.clock.now() - (state.started_at or self.clock.now())
                log.warning("component %s exited with %s after %.1fs", settings.name, code, lived)
                self._save(state, EventKind.COMPONENT_EXITED, code=code, lived=lived)
                if lived >= STABLE_AFTER:
                    state.delay = settings.restart_delay
            if settings.restart == "never" or (
                settings.restart == "on-failure" and state.last_exit_code == 0
            ):
                return
            state.status = "backoff"
            await asyncio.sleep(state.delay)
            state.delay = min(max(state.delay * 2, 0.5), MAX_DELAY)
            if self._stopping:
                return
            state.restarts += 1
            await self._spawn(state)

    def _save(self, state: ComponentState, event: EventKind, **detail: object) -> None:
        process = state.process
        create_time = None
        if process is not None and process.returncode is None:
            with contextlib.suppress(psutil.Error):
                create_time = psutil.Process(process.pid).create_time()
        now = self.clock.now()
        with self.store.transaction() as conn:
            conn.execute(
                "INSERT INTO components (name, pid, create_time, started_at, restarts, status, "
                "last_exit_code, last_exit_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET pid = excluded.pid, create_time = excluded.create_time, "
                "started_at = excluded.started_at, restarts = excluded.restarts, status = excluded.status, "
                "last_exit_code = excluded.last_exit_code, last_exit_at = coalesce(excluded.last_exit_at, last_exit_at)",
                (
                    state.settings.name,
                    state.pid,
                    create_time,
                    state.started_at,
                    state.restarts,
                    state.status,
                    state.last_exit_code,
                    now if event is EventKind.COMPONENT_EXITED else None,
                ),
            )
            self.store.record_event(event, state.settings.name, now, **detail)

    async def stop(self) -> None:
        """Stop every component in reverse order: SIGTERM, then SIGKILL after its timeout."""
        self._stopping = True
        for state in reversed(list(self.components.values())):
            if state.task is not None:
                state.task.cancel()
            process = state.process
            if process is None or process.returncode is not None:
                continue
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), state.settings.stop_timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
            state.status = "stopped"
            self._save(state, EventKind.COMPONENT_STOPPED, code=process.returncode)

    def snapshot(self) -> list[dict[str, object]]:
        """Each component's name, status, pid, start time and restart count."""
        return [
            {
                "name": name,
                "status": s.status,
                "pid": s.pid,
                "started_at": s.started_at,
                "restarts": s.restarts,
                "last_exit_code": s.last_exit_code,
            }
            for name, s in self.components.items()
        ]
