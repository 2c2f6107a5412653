"""The start-up sequence of ``selfreg run`` and ``selfreg start``: named steps, each reported.

``startup_steps`` is the list, in order; adding a step is one line there: a name and an async
function of ``Boot`` that returns what it found (a sentence, or an ``Outcome`` to warn or
skip) and raises to stop the start. Every step is printed as it ends, with its outcome and how
long it took. A failed step stops the sequence: whatever had started is stopped again
(``Runtime.stop``), the pid file is released, and ``selfreg run`` exits 2.

Prerequisites come first and start nothing (``bot/prerequisites.py``; the ones that
write nothing, not even the data folder, before the others); then the store and
servers, each component in declared order (each waiting for its health check), the monitors
(the scheduler's checks, predictors and housekeeping), a first full health check, and a
closing status table above the "selfreg is running" line.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from bot import control, logline, messages, pidfile, prerequisites
from bot.cli.tables import startup_summary
from bot.cli.terminal import Spinner, paint, wants_colour
from bot.config import LoadedConfig
from bot.engine.supervisor.rows import StoredInstance
from bot.errors import AlreadyRunning, StepFailed, UserError
from bot.runtime import Runtime, sdnotify
from bot.slack.client import check_token, make_client, workspace_url
from bot.store import backup, migration_names
from common.python_child import python_child_env
from common.units import format_duration

FIRST_ROUND_MARGIN = 2.0  # the first health check waits for the slowest check's timeout + this
FIRST_ROUND_AT_MOST = 35.0


@dataclass(frozen=True, kw_only=True, slots=True)
class Outcome:
    """What a step found when it is not a plain success: ``warn`` or ``skip``."""

    mark: str
    detail: str


@dataclass(kw_only=True, eq=False)
class Boot:
    """What the steps share: the runtime being started and what earlier steps found."""

    runtime: Runtime
    pid_file: Path
    claimed: bool = False
    current: str = ""  # the step running now (named when a signal interrupts it)
    stored: Mapping[tuple[str, int], StoredInstance] = field(default_factory=dict)
    started_at: float = field(default_factory=time.time)

    @property
    def config(self) -> LoadedConfig:
        return self.runtime.config

    def release(self) -> None:
        if self.claimed:
            pidfile.release(self.pid_file)
            self.claimed = False


StepRun = Callable[[Boot], Awaitable[str | Outcome]]


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    run: StepRun


# ---- the steps -----------------------------------------------------------------------------
async def check_python(_: Boot) -> str:
    return prerequisites.python_version()


async def check_data_folder(boot: Boot) -> str:
    return prerequisites.data_folder(boot.config.data_dir)


async def claim_data_folder(boot: Boot) -> str:
    """One selfreg per data folder: a live control socket or pid file refuses the start."""
    socket_path = boot.config.control_socket
    if control.socket_in_use(socket_path):
        raise AlreadyRunning(str(socket_path))
    done = pidfile.claim(boot.pid_file)
    boot.claimed = True
    return done


async def check_executables(boot: Boot) -> str:
    return prerequisites.executables(boot.config)


async def check_web_exposure(boot: Boot) -> str:
    return prerequisites.web_exposure(boot.config)


async def check_web_port(boot: Boot) -> str:
    return prerequisites.web_port(boot.config)


async def check_slack_token(boot: Boot) -> str | Outcome:
    """A token Slack rejects stops the start; Slack unreachable is only a warning."""
    slack = boot.config.slack
    if not slack.enabled:
        return Outcome(mark="skip", detail=messages.slack_off())
    client = make_client(slack)
    found = await check_token(client)  # raises SlackRejectedToken (a UserError)
    boot.runtime.slack_token_checked = True
    boot.runtime.slack_workspace = workspace_url(found)
    if found is None:
        return Outcome(mark="warn", detail=messages.slack_unreachable())
    return messages.slack_token_ok(str(found.get("user", "")), str(found.get("team", "")))


async def start_services(boot: Boot) -> str:
    runtime = boot.runtime
    await runtime.start_services()
    boot.stored = await runtime.parts.supervisor.prepare()
    slack = runtime.config.slack.mode if runtime.config.slack.enabled else "off"
    return messages.store_and_servers(
        str(runtime.config.db_path), runtime.web_url, str(runtime.config.control_socket), slack
    )


def component_step(name: str) -> Step:
    """Adopt or start one component and wait for its health check."""

    async def start_component(boot: Boot) -> str | Outcome:
        supervisor = boot.runtime.parts.supervisor
        began = time.time()
        await supervisor.start_one(name, boot.stored)
        component = supervisor.components[name]
        snapshot = component.snapshot(time.time())
        adopted = any((i.started_at or began) < began for i in component.instances)
        health = component.settings.health
        probe = ""
        if health is not None and not health.process:
            probe = f" ({health.http or health.tcp})"
        mark, detail = messages.component_step(snapshot, adopted, probe)
        if mark == "fail":
            raise StepFailed(f"component {name}", detail)
        return detail if mark == "ok" else Outcome(mark=mark, detail=detail)

    return Step(f"component {name}", start_component)


async def back_up_store(boot: Boot) -> str | Outcome:
    """A checked archive of the store and config before anything writes to the store, so a
    bad release or migration can be undone with ``selfreg restore``. A failed backup stops
    the start (``[backup] on_start = false`` turns the step off)."""
    config = boot.config
    if not config.settings.backup.on_start:
        return Outcome(mark="skip", detail=messages.backup_step_off())
    made = await asyncio.to_thread(backup.backup_before_start, config.backup_place)
    if made is None:
        return Outcome(mark="skip", detail=messages.backup_skipped_no_store(str(config.db_path)))
    return messages.backup_made_at_start(str(made.path), made.size, made.seconds)


async def migrate_store(boot: Boot) -> str | Outcome:
    """Apply pending migrations in a child process (``python -m bot.store.migrate``), after
    the backup step kept the store as it was: selfreg itself then never imports sqlite_utils
    (about 2 MB it would keep for its whole life, ``bot/store/migration_names.py``)."""
    path = boot.config.db_path
    pending = await asyncio.to_thread(migration_names.pending_at, path)
    if not pending:
        return Outcome(
            mark="skip", detail=messages.store_schema_current(len(migration_names.NAMES))
        )
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.store.migrate", str(path),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env=python_child_env(),
    )  # fmt: skip
    _, errors = await child.communicate()
    if child.returncode != 0:
        reason = errors.decode(errors="replace").strip().splitlines()[-1:] or ["no reason given"]
        raise StepFailed(
            "store schema", messages.store_migration_failed(child.returncode, reason[0])
        )
    return messages.store_migrated(pending)


def component_steps(boot: Boot) -> list[Step]:
    """One step per configured component, in declared order."""
    return [component_step(c.name) for c in boot.config.settings.components]


async def start_monitors(boot: Boot) -> str:
    runtime = boot.runtime
    parts = runtime.parts
    parts.supervisor.start_housekeeping()
    runtime.start_monitors()
    jobs = [job.id for job in parts.scheduler.get_jobs()]
    intervals = [format_duration(i) for i in parts.runner.intervals()]
    return messages.monitors_started(len(parts.runner.checks), intervals, jobs)


async def first_health_check(boot: Boot) -> str | Outcome:
    """Wait for the first round of every check (bounded), then ask the runtime's health."""
    runtime = boot.runtime
    runner = runtime.parts.runner
    enabled = [c for c in runner.checks.values() if c.spec.enabled]
    limit = max((c.spec.run_timeout for c in enabled), default=0.0) + FIRST_ROUND_MARGIN
    deadline = time.monotonic() + min(limit, FIRST_ROUND_AT_MOST)
    waiting = [c.name for c in enabled if c.name not in runner.last_durations]
    while waiting and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        waiting = [c.name for c in enabled if c.name not in runner.last_durations]
    healthy, body = runtime.health()
    if not healthy:
        raise StepFailed("first health check", "; ".join(body["reasons"]))
    counts = Counter(
        state.status.value for state in runner.latest.values() if state.check in runner.checks
    )
    detail = messages.first_health(counts, waiting)
    return Outcome(mark="warn", detail=detail) if waiting else detail


def startup_steps(boot: Boot) -> list[Step]:
    """The start-up sequence, in order. One line per step."""
    return [
        Step("Python", check_python),
        Step("web exposure", check_web_exposure),
        Step("executables", check_executables),
        Step("data folder", check_data_folder),
        Step("single instance", claim_data_folder),
        Step("web port", check_web_port),
        Step("Slack token", check_slack_token),
        Step("backup", back_up_store),
        Step("store schema", migrate_store),
        Step("store and servers", start_services),
        *component_steps(boot),
        Step("monitors", start_monitors),
        Step("first health check", first_health_check),
    ]


# ---- running the sequence ------------------------------------------------------------------
async def run_steps(steps: list[Step], boot: Boot, out: TextIO) -> None:
    """Run ``steps`` in order, printing each as it ends; raise ``StepFailed`` at the first
    failure (the caller stops what had started)."""
    interactive = wants_colour(out)
    width = max((len(s.name) for s in steps), default=0)
    for step in steps:
        began = time.perf_counter()
        boot.current = step.name
        try:
            async with Spinner(out, step.name, enabled=interactive):
                result = await step.run(boot)
        except StepFailed as exc:
            _print_step(out, "fail", step.name, width, exc.reason, began, interactive)
            raise
        except asyncio.CancelledError:
            _print_step(out, "fail", step.name, width, "interrupted", began, interactive)
            raise
        except Exception as exc:  # any failure of a step stops the start, with its reason
            reason = str(exc) if isinstance(exc, UserError) else messages.error_text(exc)
            if not isinstance(exc, UserError):
                reason = f"{type(exc).__name__}: {reason}"
            _print_step(out, "fail", step.name, width, reason, began, interactive)
            raise StepFailed(step.name, reason) from exc
        outcome = result if isinstance(result, Outcome) else Outcome(mark="ok", detail=result)
        _print_step(out, outcome.mark, step.name, width, outcome.detail, began, interactive)


STEP_LEVEL = {"ok": "INFO", "skip": "INFO", "warn": "WARNING", "fail": "ERROR"}


def _print_step(
    out: TextIO, mark: str, name: str, width: int, detail: str, began: float, colour: bool
) -> None:
    """One step as a line of ``bot.logline`` (logger ``startup``), its outcome in colour on
    a terminal; JSON lines carry the step, outcome and milliseconds as fields."""
    seconds = time.perf_counter() - began
    text = messages.startup_step(mark, name, width, detail, seconds).lstrip()
    fields = {"step": name, "outcome": mark, "ms": round(seconds * 1000)}
    line = logline.render(STEP_LEVEL.get(mark, "INFO"), "startup", text, fields=fields)
    if colour and not logline.is_json():
        word = messages.STEP_MARK.get(mark, mark)
        line = line.replace(f"  {word}  ", f"  {paint(word, True)}  ", 1)
    print(line, file=out, flush=True)


def _say(out: TextIO, text: str, level: str = "INFO") -> None:
    """A line of selfreg's own (starting, the summary, stopped) in the one format."""
    for line in text.splitlines():
        logline.write(out, level, "selfreg", line)


async def run_foreground(config: LoadedConfig, *, detached: bool = False) -> int:
    """``selfreg run``: the start-up sequence, then run until SIGINT or SIGTERM; exit code.

    A signal during the start interrupts it (what had started is stopped again).
    """
    out = sys.stdout
    runtime = Runtime(config, out=out)
    boot = Boot(runtime=runtime, pid_file=pidfile.pid_path(config.data_dir))
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    _say(out, messages.startup_header([str(f) for f in config.files], str(config.data_dir)))
    starting = asyncio.create_task(run_steps(startup_steps(boot), boot, out), name="startup")

    def on_signal() -> None:
        stop.set()
        if not starting.done():
            starting.cancel()

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)
    loop.add_signal_handler(signal.SIGHUP, runtime.on_hangup)  # reloads the config
    try:
        await starting
    except (StepFailed, asyncio.CancelledError) as exc:
        await runtime.stop()
        boot.release()
        failed = isinstance(exc, StepFailed)
        _say(sys.stderr, str(exc) if failed else messages.start_interrupted(boot.current), "ERROR")
        return 2
    pings: asyncio.Task[None] | None = None
    try:
        _say(out, startup_summary(_configured(runtime), time.time(), wants_colour(out)))
        runtime.announce_started(detached)
        pings = _tell_systemd_ready(runtime)
        await stop.wait()
    finally:
        sdnotify.notify("STOPPING=1", "STATUS=" + messages.sd_stopping())
        await sdnotify.stop_watchdog(pings)
        await runtime.stop()
        boot.release()
        _say(out, messages.stopped())
    return 0


def _tell_systemd_ready(runtime: Runtime) -> asyncio.Task[None] | None:
    """Under systemd (``Type=notify``): READY=1 now, and the watchdog pings while healthy."""
    parts = runtime.parts
    status = messages.sd_ready(len(parts.runner.checks), len(parts.supervisor.components))
    sdnotify.notify("READY=1", "STATUS=" + status)
    return sdnotify.start_watchdog(lambda: runtime.health()[0])


def _configured(runtime: Runtime) -> dict[str, Any]:
    """The status document without checks the store remembers but the config no longer has."""
    document = runtime.status()
    names = set(runtime.parts.runner.checks)
    for key in ("checks", "failing"):
        document[key] = [c for c in document.get(key, []) if c["check"] in names]
    return document
