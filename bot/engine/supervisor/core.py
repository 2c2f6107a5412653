"""The supervisor: start components in order, restart the ones that exit, stop them in reverse.

One task per running process awaits its end (an asyncio child, or an adopted process's
pidfd), so an exit is handled the moment the kernel reports it: no polling. On an exit the
instance is started again by its restart policy, at once the first time; quick exits back off
(``restarts.next_delay``); too many exits within the crash-loop window stop the restarts and
hand a crash-loop transition to ``on_crash_loop`` (alerting) so a person decides (``restart_anyway`` / ``keep_stopped``).

Components outlive a crashed selfreg (own session, output straight to a file); their pid,
start time and argv are in the store, and the next selfreg adopts each one that still runs
instead of starting a duplicate.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp

from bot import messages
from bot.clock import Clock
from bot.config import ENVIRONMENT_VARIABLES, ComponentSettings
from bot.engine.supervisor import rows
from bot.engine.supervisor.events import SupervisorEvent
from bot.engine.supervisor.logs import CHECK_EVERY, rotate_all
from bot.engine.supervisor.processes import (
    AdoptedProcess,
    ChildProcess,
    ProcessHandle,
    child_env,
    identity_of,
    resolve_command,
    spawn,
    terminate,
)
from bot.engine.supervisor.readiness import wait_ready
from bot.engine.supervisor.restarts import crash_loop_transition, next_delay, wants_restart
from bot.engine.supervisor.state import ComponentState, Instance
from bot.engine.supervisor.strays import stop_strays
from bot.errors import UnknownComponent
from bot.records import EventKind, Transition
from bot.store.db import Store
from common.proxies import proxy_named

log = logging.getLogger(__name__)

CrashLoopHook = Callable[[Transition], object]
"""``on_crash_loop(transition)``: called once when a crash loop begins (``Alerting.handle``)."""


class SupervisorCore:
    """Starting, watching, restarting and stopping instances; the controls build on it."""

    def __init__(
        self,
        components: list[ComponentSettings],
        store: Store,
        clock: Clock,
        log_dir: Path,
        base_dir: Path,
        *,
        http: aiohttp.ClientSession | None = None,
        on_crash_loop: CrashLoopHook | None = None,
        log_check_every: float = CHECK_EVERY,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.log_dir = log_dir
        self.base_dir = base_dir
        self.on_crash_loop = on_crash_loop
        self.log_check_every = log_check_every
        self.components = {c.name: ComponentState.of(c) for c in components}
        self._http = http
        self._own_http: aiohttp.ClientSession | None = None
        self._environ = environ
        self._stopping = False
        self._housekeeping: asyncio.Task[None] | None = None

    # ---- start and stop --------------------------------------------------------------
    async def start(self) -> None:
        """Adopt or start every component in declared order, each waiting until ready."""
        stored = await self.prepare()
        for name in self.components:
            await self.start_one(name, stored)
        self.start_housekeeping()

    async def prepare(self) -> dict[tuple[str, int], rows.StoredInstance]:
        """Before the first component: stop strays; return what an earlier selfreg left."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        stored = {(s.name, s.index): s for s in rows.load(self.store)}
        await stop_strays(self.store, self.clock, self.components, stored)
        return stored

    async def start_one(
        self, name: str, stored: Mapping[tuple[str, int], rows.StoredInstance]
    ) -> None:
        """Adopt or start every instance of one component and wait until the new ones are ready.

        ``selfreg start`` calls it once per component, in declared order, as its own step.
        """
        component = self.components[name]
        started = []
        for index in range(component.settings.instances):
            instance = self._new_instance(component, index)
            component.instances.append(instance)
            if not await self._adopt(component, instance, stored.get((component.name, index))):
                await self._start_instance(component, instance)
                started.append(instance)
        # only fresh starts gate the next component: an adopted one has been up all along,
        # and one that hung meanwhile must not hold up selfreg's start (it is probed, though)
        await self._until_ready(started)

    def start_housekeeping(self) -> None:
        """After the last component: rotate the components' logs from now on."""
        self._housekeeping = self._task(self._rotate_logs_forever(), "component-logs")

    async def stop(self) -> None:
        """Stop every component in reverse order: SIGTERM, then SIGKILL after its timeout."""
        self._stopping = True
        if self._housekeeping is not None:
            self._housekeeping.cancel()
        for component in reversed(list(self.components.values())):
            await self._stop_all(component)
        if self._own_http is not None:
            await self._own_http.close()

    def snapshot(self) -> list[dict[str, Any]]:
        """One dict per component (top level: its first instance), with each instance."""
        now = self.clock.now()
        return [c.snapshot(now) for c in self.components.values()]

    # ---- one instance ----------------------------------------------------------------
    def _new_instance(self, component: ComponentState, index: int) -> Instance:
        settings = component.settings
        single = settings.instances == 1 and index == 0
        label = settings.name if single else f"{settings.name}-{index}"
        return Instance(
            name=settings.name, index=index, label=label, log_path=self.log_dir / f"{label}.log"
        )

    def _argv(self, component: ComponentState) -> list[str]:
        return resolve_command(component.settings.command)

    async def _start_instance(
        self, component: ComponentState, instance: Instance, events: Sequence[rows.Event] = ()
    ) -> bool:
        """Start one instance's process; ``events`` (its exit) are recorded with the start."""
        for task in (instance.task, instance.ready_task):  # e.g. a watcher waiting to restart
            if task is not None and task is not asyncio.current_task():
                task.cancel()
        settings, argv = component.settings, self._argv(component)
        env = child_env(
            os.environ if self._environ is None else self._environ,
            settings.env,
            set(ENVIRONMENT_VARIABLES),
            instance.index,
        )
        try:
            handle: ChildProcess = await spawn(
                argv,
                cwd=self.base_dir / (settings.cwd or "."),
                env=env,
                log_path=instance.log_path,
            )
        except OSError as exc:
            instance.handle, instance.status = None, "failed"
            log.error(messages.component_start_failed(settings.name, str(exc)))
            failed = (SupervisorEvent.START_FAILED, {"instance": instance.index, "error": str(exc)})
            self._save(component, instance, [*events, failed])
            return False
        self._running(component, instance, handle, started_at=self.clock.now())
        instance.identity = identity_of(handle.pid, argv)
        started = (EventKind.COMPONENT_STARTED, {"instance": instance.index, "pid": handle.pid})
        self._save(component, instance, [*events, started])
        log.info(messages.component_spawned(instance.label, handle.pid))
        return True

    def _running(
        self,
        component: ComponentState,
        instance: Instance,
        handle: ProcessHandle,
        started_at: float,
    ) -> None:
        """Mark an instance as running ``handle`` and watch it (and its readiness)."""
        instance.handle, instance.started_at, instance.stopping = handle, started_at, False
        health = component.settings.health
        probing = health is not None and not health.process
        instance.status = "starting" if probing else "running"
        label = instance.label
        instance.task = self._task(self._watch(component, instance, handle), f"component:{label}")
        instance.ready_task = (
            self._task(self._become_ready(component, instance, handle), f"ready:{label}")
            if probing
            else None
        )

    async def _adopt(
        self, component: ComponentState, instance: Instance, stored: rows.StoredInstance | None
    ) -> bool:
        """Take over the process an earlier selfreg left running; False: start a new one."""
        if stored is None or stored.identity is None:
            return False
        handle = AdoptedProcess.adopt(stored.identity)
        if handle is None:
            return False
        if list(stored.identity.argv) != self._argv(component):
            log.warning(messages.component_command_changed(component.name, handle.pid))
            code = await terminate(handle, component.settings.stop_timeout)
            self._record(
                component,
                EventKind.COMPONENT_STOPPED,
                pid=handle.pid,
                code=code,
                reason=messages.stopped_command_changed(),
            )
            return False
        instance.identity, instance.restarts = stored.identity, stored.restarts
        self._running(component, instance, handle, started_at=stored.started_at or self.clock.now())
        adopted = (SupervisorEvent.ADOPTED, {"instance": instance.index, "pid": handle.pid})
        self._save(component, instance, [adopted])
        log.info(messages.component_adopted(instance.label, handle.pid))
        return True

    async def _watch(
        self, component: ComponentState, instance: Instance, handle: ProcessHandle
    ) -> None:
        """Await the process's end; then restart it by policy (one task per process)."""
        code = await handle.wait()
        if instance.stopping or self._stopping or instance.handle is not handle:
            return
        now = self.clock.now()
        lived = now - (instance.started_at or now)
        instance.last_exit_code, instance.last_exit_at, instance.status = code, now, "exited"
        exited = (
            EventKind.COMPONENT_EXITED,
            {"instance": instance.index, "pid": handle.pid, "code": code, "lived": round(lived, 3)},
        )
        if component.held or component.crash_looped or not wants_restart(component.settings, code):
            instance.status = "crash-loop" if component.crash_looped else "exited"
            self._save(component, instance, [exited])
            log.warning(messages.component_not_restarted(instance.label, code))
            return
        if component.exits.add(now):
            self._crash_looped(component, instance, exited)
            return
        instance.delay = next_delay(component.settings, instance.delay, lived)
        events = [exited]
        if instance.delay > 0:
            instance.status = "backoff"
            self._save(component, instance, events)
            events = []
            await asyncio.sleep(instance.delay)
            if instance.stopping or component.held or component.crash_looped:
                return
        instance.restarts += 1
        await self._start_instance(component, instance, events)
        log.warning(messages.component_restarted_after(instance.label, code, lived, instance.delay))

    def _crash_looped(
        self, component: ComponentState, instance: Instance, exited: rows.Event
    ) -> None:
        component.crash_looped, instance.status = True, "crash-loop"
        exits, window = component.exits.count(), component.settings.crash_loop.window
        looped = (SupervisorEvent.CRASH_LOOPED, {"exits": exits, "window": window})
        self._save(component, instance, [exited, looped])
        log.error(messages.component_crash_looping(component.name, exits, window))
        if self.on_crash_loop is not None:
            try:
                self.on_crash_loop(
                    crash_loop_transition(component.name, exits, window, self.clock.now())
                )
            except Exception:
                log.exception(messages.crash_loop_hook_failed(component.name))

    async def _become_ready(
        self, component: ComponentState, instance: Instance, handle: ProcessHandle
    ) -> None:
        """Probe the health check until ready or its timeout; record which."""
        loop = asyncio.get_running_loop()
        began = loop.time()

        def alive() -> bool:
            return instance.handle is handle and handle.running()

        ready = await wait_ready(component.settings.health, self._session(component), alive)
        if not alive() or instance.stopping:
            return
        took = round(loop.time() - began, 3)
        instance.status = "running" if ready else "unready"
        kind = SupervisorEvent.BECAME_READY if ready else SupervisorEvent.READY_TIMED_OUT
        self._save(
            component,
            instance,
            [(kind, {"instance": instance.index, "pid": handle.pid, "after": took})],
        )
        if not ready:
            log.warning(messages.component_unready(instance.label, took))

    async def _until_ready(self, instances: list[Instance]) -> None:
        """Wait for the readiness probes of ``instances`` (each bounded by its timeout)."""
        waiting = [i.ready_task for i in instances if i.ready_task is not None]
        if waiting:
            await asyncio.gather(*waiting, return_exceptions=True)

    async def _stop_instance(self, component: ComponentState, instance: Instance) -> int | None:
        """Stop one instance on purpose; its exit is then no failure and not restarted."""
        instance.stopping = True
        for task in (instance.task, instance.ready_task):
            if task is not None and task is not asyncio.current_task():
                task.cancel()
        handle, code = instance.handle, None
        if handle is not None and handle.running():
            code = await terminate(handle, component.settings.stop_timeout)
            stopped = (
                EventKind.COMPONENT_STOPPED,
                {"instance": instance.index, "pid": handle.pid, "code": code},
            )
            events = [stopped]
        else:
            events = []
        instance.handle, instance.status = None, "stopped"
        self._save(component, instance, events)
        return code

    async def _stop_all(self, component: ComponentState) -> None:
        await asyncio.gather(*(self._stop_instance(component, i) for i in component.instances))

    # ---- housekeeping ------------------------------------------------------------------
    async def _rotate_logs_forever(self) -> None:
        while True:
            await asyncio.sleep(self.log_check_every)
            await self.rotate_logs()

    async def rotate_logs(self) -> None:
        """Rotate every instance's log that has passed its size (file work in a thread)."""
        await rotate_all(self.components.values())

    # ---- helpers -----------------------------------------------------------------------
    def _session(self, component: ComponentState) -> aiohttp.ClientSession | None:
        health = component.settings.health
        if health is None or health.http is None:
            return None
        if self._http is None:
            if self._own_http is None:
                self._own_http = aiohttp.ClientSession(trust_env=proxy_named(os.environ))
            return self._own_http
        return self._http

    def _save(
        self, component: ComponentState, instance: Instance | None, events: Sequence[rows.Event]
    ) -> None:
        rows.save(self.store, self.clock.now(), component, instance, events)

    def _record(self, component: ComponentState, kind: str, **detail: Any) -> None:
        self._save(component, None, [(kind, detail)])

    def _task(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        task.add_done_callback(_log_failure)
        return task

    def _get(self, name: str) -> ComponentState:
        try:
            return self.components[name]
        except KeyError:
            raise UnknownComponent(name, list(self.components)) from None


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error(messages.supervisor_task_failed(task.get_name()), exc_info=exc)
