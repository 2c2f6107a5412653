"""Live config reload: SIGHUP, a change of the config file on disk, or ``/selfreg reload``.

The file is read and validated exactly as at start (``load_settings``). An invalid config is
refused with the same lines ``selfreg config check`` prints, and selfreg keeps running on the
one it has. A valid one is compared with the running config (``config_diff``) and only what
differs is touched: an added check is scheduled, a removed one stops (its open incidents are
resolved with a note), a changed one is rebuilt; components are started, stopped or
restarted one by one while the others keep their pids; an unchanged check keeps its state.
What cannot change in a running process is named in the notice as "needs a restart".

Every reload is an event row and a notice ("config reloaded: + check disk, − check old-api,
~ component api (command)"). Reloads never overlap: one lock serialises the three triggers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import actions
import checks
from bot import messages
from bot.clock import Clock
from bot.config import LoadedConfig
from bot.engine.check_jobs import sync_check_jobs
from bot.engine.config_diff import ConfigDiff, diff, names
from bot.engine.notices import Announcer
from bot.errors import ConfigError, UserError
from bot.store import audit, state
from bot.store.db import Store
from bot.store.incidents import open_incidents

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.engine.alerting import Alerting
    from bot.engine.remediation import Remediation
    from bot.engine.runner import CheckRunner
    from bot.engine.supervisor import Supervisor

log = logging.getLogger(__name__)

SETTLE = 0.2  # a file must look the same twice this far apart: an editor may still be writing
COMMAND_WAIT = 2.0  # a Slack command is answered within 3 s; a longer reload answers in the channel

Fingerprint = tuple[tuple[str, int, int, int] | None, ...]

SettingsHook = Callable[[LoadedConfig], None]
"""Hands one part the live settings it keeps from a newly loaded config (its own
``reconfigure``); built by the composition root for the parts the engine does not know
(Slack's permissions and commands, the approver groups, the Slack notifier's actions, the
heartbeat, housekeeping). They run last, after the new ``[alerts]`` policy."""


class ReloadEvent(StrEnum):
    RELOADED = "config.reloaded"
    REFUSED = "config.reload_refused"
    FAILED = "config.reload_failed"


@dataclass(frozen=True, kw_only=True, slots=True)
class ReloadOutcome:
    """``applied``: something changed; ``ok``: the config was accepted (changed or not)."""

    applied: bool
    text: str
    ok: bool = True


@dataclass(frozen=True, kw_only=True, slots=True)
class ReloadTargets:
    """The parts a reload hands new settings to, each through its own ``reconfigure``."""

    runner: CheckRunner
    alerting: Alerting
    supervisor: Supervisor
    scheduler: AsyncIOScheduler
    remediation: Remediation | None = None
    settings: Sequence[SettingsHook] = ()


def fingerprint(files: Sequence[Path]) -> Fingerprint:
    """(path, mtime in ns, size, inode) per file; None for a file that is gone. Cheap: a stat."""
    found: list[tuple[str, int, int, int] | None] = []
    for path in files:
        try:
            st = os.stat(path)
        except OSError:
            found.append(None)
            continue
        found.append((str(path), st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(found)


class Reloader:
    """Reloads the config on request, on SIGHUP and when its files change."""

    def __init__(
        self,
        config: LoadedConfig,
        *,
        load: Callable[[], LoadedConfig],
        store: Store,
        clock: Clock,
        announcer: Announcer,
        targets: ReloadTargets,
    ) -> None:
        self.config = config
        """The config running now: the one selfreg started on until a reload replaces it."""
        self.booted = config
        self.load = load
        self.store = store
        self.clock = clock
        self.announcer = announcer
        self.targets = targets
        self._lock = asyncio.Lock()
        self._seen = fingerprint(config.files)
        self._restart_named: tuple[str, ...] = ()
        self._tasks: set[asyncio.Task[ReloadOutcome]] = set()
        self._watcher: asyncio.Task[None] | None = None

    # ---- triggers ----------------------------------------------------------------------
    def on_signal(self) -> None:
        """SIGHUP: reload in a task (a signal handler must not block the loop)."""
        self._spawn("signal")

    async def from_command(self, user: str) -> str:
        """``/selfreg reload``: the outcome, or a note that it is posted when it takes long."""
        task = self._spawn(f"slack:{user}")
        done, _ = await asyncio.wait({task}, timeout=COMMAND_WAIT)
        return task.result().text if done else messages.reload_in_progress()

    async def watch(self) -> None:
        """Compare the files' fingerprints every ``[reload] poll_every``; reload on a change."""
        while True:
            await asyncio.sleep(self.config.settings.reload.poll_every)
            if self.config.settings.reload.watch:
                await self.poll()

    async def poll(self) -> None:
        files = self.config.files
        now = fingerprint(files)
        if now == self._seen:
            return
        await asyncio.sleep(SETTLE)
        if fingerprint(files) == now:
            await self.reload("file")

    def _spawn(self, trigger: str) -> asyncio.Task[ReloadOutcome]:
        task = asyncio.get_running_loop().create_task(self.reload(trigger), name="config-reload")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def start(self) -> None:
        """Start watching the config files."""
        self._watcher = asyncio.get_running_loop().create_task(self.watch(), name="config-watch")

    async def stop(self) -> None:
        """Stop watching and cut short a reload in progress (selfreg is stopping)."""
        pending: list[asyncio.Task[Any]] = [*self._tasks]
        if self._watcher is not None:
            pending.append(self._watcher)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(BaseException):
                await task

    # ---- the reload ----------------------------------------------------------------------
    async def reload(self, trigger: str) -> ReloadOutcome:
        """Read, validate, compare and apply; never raises (the outcome says what happened)."""
        async with self._lock:
            seen = fingerprint(self.config.files)
            try:
                new = self.load()
            except ConfigError as exc:
                self._seen = seen
                return self._refused(trigger, [str(p) for p in exc.problems])
            except UserError as exc:
                self._seen = seen
                return self._refused(trigger, [str(exc)])
            self._seen = seen
            change = diff(
                self.config, new, self.booted, actions_live=self.targets.remediation is not None
            )
            if not change.applies_anything and change.restart == self._restart_named:
                self.config = new
                return self._finish(trigger, messages.config_unchanged(), change, announce=False)
            try:
                await self._apply(new, change)
            except Exception as exc:  # half-applied: it must be seen, and must not kill selfreg
                log.exception("config reload failed part-way")
                text = messages.config_reload_failed(f"{type(exc).__name__}: {exc}")
                self._record(ReloadEvent.FAILED, trigger, text=text)
                self.announcer.post(text, "config")
                return ReloadOutcome(applied=False, text=text, ok=False)
            self._restart_named = change.restart
            text = messages.config_changes(names(change.entries), change.live, change.restart)
            return self._finish(trigger, text, change, announce=True)

    def _refused(self, trigger: str, problems: list[str]) -> ReloadOutcome:
        text = messages.config_refused(problems)
        log.error("%s", text)
        self._record(ReloadEvent.REFUSED, trigger, problems=problems)
        self.announcer.post(text, "config")
        return ReloadOutcome(applied=False, text=text, ok=False)

    def _finish(
        self, trigger: str, text: str, change: ConfigDiff, *, announce: bool
    ) -> ReloadOutcome:
        log.info("%s", text)
        self._record(
            ReloadEvent.RELOADED,
            trigger,
            changes=names(change.entries),
            settings=list(change.live),
            needs_restart=list(change.restart),
            applied=announce,
        )
        if announce or trigger != "file":
            self.announcer.post(text, "config")
        return ReloadOutcome(applied=announce, text=text)

    def _record(self, kind: ReloadEvent, trigger: str, **detail: object) -> None:
        """An event row and an audit row (who, through which door), in one transaction.

        A reload is a state change an operator causes (permissions and approvers come with
        it), so the trail has it: ``signal`` (SIGHUP), ``file`` (an edit seen), ``cli:<user>``
        or ``slack:<user id>``.
        """
        files = [str(f) for f in self.config.files]
        door, _, who = trigger.partition(":")
        now = self.clock.now()
        with self.store.transaction():
            self.store.record_event(kind, "config", now, by=trigger, files=files, **detail)
            audit.append(
                self.store, now, kind.value, who or door,
                "config", {"door": door, "files": files, **detail},
            )  # fmt: skip

    async def _apply(self, new: LoadedConfig, change: ConfigDiff) -> None:
        """Apply ``change``: checks, actions, jobs, incidents, components, then settings.

        The new ``[alerts]`` policy comes with the settings, last: removed checks' incidents
        close under the policy they opened under, and a reload that fails part-way leaves
        the running policy in place.
        """
        targets = self.targets
        settings = new.settings
        specs = {spec.name: spec for spec in settings.checks}
        removed = change.of("checks", "−")
        targets.runner.reconfigure(
            settings.checks,
            rebuild={*change.of("checks", "+"), *change.of("checks", "~")},
            make=lambda spec: checks.REGISTRY[spec.kind](spec),
            forget=removed,
        )
        state.forget_checks(self.store, removed)
        # the checks now; the policy stays the running one until the settings' turn, below
        targets.alerting.reconfigure(specs=specs, policy=self.config.settings.alerts)
        if targets.remediation is not None:
            targets.remediation.reconfigure(
                settings.actions,
                rebuild={*change.of("actions", "+"), *change.of("actions", "~")},
                make=lambda spec: actions.REGISTRY[spec.kind](spec),
                remediations={c.name: list(c.remediate) for c in settings.checks if c.remediate},
                dry_run=settings.remediation.dry_run,
            )
        sync_check_jobs(targets.scheduler, targets.runner)
        gone = [*removed, *(f"component:{n}" for n in change.of("components", "−"))]
        self._resolve_incidents_of(gone)
        if any(e.section == "components" for e in change.entries):
            await targets.supervisor.reconfigure(settings.components)
            self._resolve_crash_loops_of(change.of("components", "~"))
        targets.alerting.reconfigure(specs=specs, policy=settings.alerts)
        for hand_over in targets.settings:
            hand_over(new)
        self.config = new

    def _resolve_incidents_of(self, checks_gone: Sequence[str]) -> None:
        if not checks_gone:
            return
        for incident in open_incidents(self.store):
            if incident.check in checks_gone:
                what = incident.check.replace("component:", "component ", 1)
                if not incident.check.startswith("component:"):
                    what = f"check {what}"
                self.targets.alerting.close(incident.id, messages.removed_from_config(what))

    def _resolve_crash_loops_of(self, changed: Sequence[str]) -> None:
        """A changed component was restarted with its new config: the crash loop that asked
        a person about the old one is answered (a new loop opens a new incident)."""
        checks_changed = {f"component:{name}" for name in changed}
        for incident in open_incidents(self.store):
            if incident.check in checks_changed:
                name = incident.check.removeprefix("component:")
                self.targets.alerting.close(incident.id, messages.component_reconfigured(name))
