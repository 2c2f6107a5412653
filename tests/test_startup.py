"""bot.startup in process: the step runner, the real step list, and the whole sequence.

The runner is driven with small steps of the test's own; the real steps run against a
tmp_path config (one tcp check on a loopback listener, one tiny component), a real store,
a web server on a free loopback port and the control socket in the data folder.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import io
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot import pidfile, startup
from bot.config import LoadedConfig, load_settings
from bot.errors import SlackRejectedToken, StepFailed, UserError
from bot.runtime import Runtime
from bot.startup import Boot, Outcome, Step
from bot.store import open_store
from bot.store.migration_names import NAMES, pending_at
from tests.engine.test_supervisor_support import alive, kill_marked
from tests.support.servers import free_port, tcp_listener
from tests.support.slack_selfreg import slack_env
from tests.support.slack_standin import SlackEmulator

SLEEPER = "import time; time.sleep(60)"

CHECK = """
[[checks]]
kind = "tcp"
name = "db"
port = {port}
interval = "1s"
"""

COMPONENT = """
[[components]]
name = "worker"
command = ["python", "-c", "{code}", "{marker}"]
stop_timeout = "2s"
"""


MODELS_OFF = "[models]\nanomaly = false\nfailure_risk = false\nforecast = false\n"


def write_config(tmp_path: Path, body: str) -> Path:
    """The config file; the predictors off (their retrain job would start a process pool)."""
    path = tmp_path / "selfreg.toml"
    path.write_text(MODELS_OFF + body)
    return path


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No Slack, no token, a data folder under tmp_path, any free web port."""
    return {"SELFREG_DATA_DIR": str(tmp_path / "data"), "SELFREG_WEB_PORT": "0", **extra}


def boot_for(config: LoadedConfig, out: io.StringIO | None = None) -> Boot:
    runtime = Runtime(config, out=out or io.StringIO())
    return Boot(runtime=runtime, pid_file=pidfile.pid_path(config.data_dir))


@pytest.fixture
def marker() -> Iterator[str]:
    """A word on the component's command line: whatever a failed test leaves is killed."""
    word = f"selfreg-test-{uuid.uuid4().hex[:12]}"
    yield word
    kill_marked(word)


@pytest.fixture
def listener() -> Iterator[int]:
    with tcp_listener() as sock:
        yield sock.getsockname()[1]


@pytest.fixture
async def boot(tmp_path: Path) -> AsyncIterator[Boot]:
    """A boot over an empty config (no checks, no components), stopped at the end."""
    config = load_settings(str(write_config(tmp_path, "")), env_for(tmp_path))
    made = boot_for(config)
    yield made
    await made.runtime.stop()
    made.release()


@contextlib.asynccontextmanager
async def foreground(config: LoadedConfig, out: io.StringIO) -> AsyncIterator[asyncio.Task[int]]:
    """``run_foreground`` as a task printing into ``out``; cancelled at the end if still on."""
    with contextlib.redirect_stdout(out):
        running = asyncio.create_task(startup.run_foreground(config))
        try:
            yield running
        finally:
            if not running.done():
                running.cancel()
                with contextlib.suppress(BaseException):
                    await running
            gc.unfreeze()


STEP_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  (?:INFO|WARNING|ERROR) +startup(?=  )")


def lines_of(out: io.StringIO) -> list[str]:
    """The lines written, a step's line without its time, level and logger (bot.logline)."""
    return [STEP_PREFIX.sub("", line) for line in out.getvalue().splitlines()]


# ---- the runner ----------------------------------------------------------------------------
async def test_steps_run_in_order_each_printed_with_its_mark_and_time(boot: Boot) -> None:
    ran: list[str] = []

    def step(name: str, result: str | Outcome) -> Step:
        async def run(seen: Boot) -> str | Outcome:
            assert seen is boot and seen.current == name
            ran.append(name)
            return result

        return Step(name, run)

    out = io.StringIO()
    steps = [
        step("first", "all good"),
        step("a longer name", Outcome(mark="warn", detail="careful")),
        step("third", Outcome(mark="skip", detail="not needed")),
    ]
    await startup.run_steps(steps, boot, out)
    assert ran == ["first", "a longer name", "third"]
    lines = lines_of(out)
    assert len(lines) == 3
    assert re.fullmatch(r"  ok    first          all good  \(\d+ ms\)", lines[0])
    assert re.fullmatch(r"  warn  a longer name  careful  \(\d+ ms\)", lines[1])
    assert re.fullmatch(r"  skip  third          not needed  \(\d+ ms\)", lines[2])
    levels = [line.split()[2] for line in out.getvalue().splitlines()]
    assert levels == ["INFO", "WARNING", "INFO"]
    assert "\x1b[" not in out.getvalue()  # not a terminal: no colours


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (UserError("the folder is read-only"), "the folder is read-only"),
        (StepFailed("inner", "it said no"), "it said no"),
        (RuntimeError("boom"), "RuntimeError: boom"),
    ],
)
async def test_a_failing_step_stops_the_sequence_and_reports_fail_with_its_reason(
    boot: Boot, error: Exception, reason: str
) -> None:
    ran: list[str] = []

    async def ok(_: Boot) -> str:
        ran.append("ok")
        return "fine"

    async def fails(_: Boot) -> str:
        ran.append("fails")
        raise error

    async def never(_: Boot) -> str:
        ran.append("never")
        return "unreachable"

    out = io.StringIO()
    steps = [Step("ok", ok), Step("breaks", fails), Step("after", never)]
    with pytest.raises(StepFailed) as failed:
        await startup.run_steps(steps, boot, out)
    assert ran == ["ok", "fails"]
    assert failed.value.reason == reason
    if not isinstance(error, StepFailed):
        assert failed.value.step == "breaks"
        assert failed.value.__cause__ is error
        assert str(failed.value).startswith(f"selfreg did not start: breaks failed: {reason}\n")
    lines = lines_of(out)
    assert len(lines) == 2 and lines[0].startswith("  ok    ok ")
    assert re.fullmatch(rf"  FAIL  breaks  {re.escape(reason)}  \(\d+ ms\)", lines[1])


async def test_a_cancelled_step_is_reported_interrupted(boot: Boot) -> None:
    started = asyncio.Event()

    async def slow(_: Boot) -> str:
        started.set()
        await asyncio.sleep(30)
        return "never"

    out = io.StringIO()
    task = asyncio.create_task(startup.run_steps([Step("slow one", slow)], boot, out))
    await asyncio.wait_for(started.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
    assert boot.current == "slow one"
    (line,) = lines_of(out)
    assert re.fullmatch(r"  FAIL  slow one  interrupted  \(\d+ ms\)", line)


# ---- the real steps ------------------------------------------------------------------------
def test_the_step_list_is_prerequisites_then_services_components_monitors(
    tmp_path: Path, marker: str
) -> None:
    body = "".join(
        COMPONENT.format(code=SLEEPER, marker=marker).replace('"worker"', f'"{name}"')
        for name in ("db", "api")
    )
    config = load_settings(str(write_config(tmp_path, body)), env_for(tmp_path))
    names = [step.name for step in startup.startup_steps(boot_for(config))]
    assert names == [
        "Python",
        "web exposure",
        "executables",
        "data folder",
        "single instance",
        "web port",
        "Slack token",
        "backup",
        "store schema",
        "store and servers",
        "component db",
        "component api",
        "monitors",
        "first health check",
    ]


async def test_a_live_pid_file_refuses_the_single_instance_step(boot: Boot) -> None:
    pidfile.claim(boot.pid_file)  # this process holds it already, as a live selfreg would
    out = io.StringIO()
    with pytest.raises(StepFailed) as failed:
        await startup.run_steps([Step("single instance", startup.claim_data_folder)], boot, out)
    assert f"selfreg already runs with this data folder (pid {os.getpid()}" in failed.value.reason
    assert not boot.claimed  # not ours: release leaves it
    boot.release()
    assert boot.pid_file.exists()
    pidfile.release(boot.pid_file)


async def test_slack_off_is_skipped_and_backup_off_is_skipped(tmp_path: Path) -> None:
    config = load_settings(
        str(write_config(tmp_path, "[backup]\non_start = false\n")), env_for(tmp_path)
    )
    boot = boot_for(config)
    assert await startup.check_slack_token(boot) == Outcome(
        mark="skip", detail="Slack is off (no SLACK_BOT_TOKEN)"
    )
    assert await startup.back_up_store(boot) == Outcome(
        mark="skip", detail="Turned off ([backup] on_start = false)."
    )


async def test_a_store_from_an_earlier_run_is_backed_up_before_the_start(tmp_path: Path) -> None:
    config = load_settings(str(write_config(tmp_path, "")), env_for(tmp_path))
    open_store(config.db_path).close()  # what an earlier run left
    said = await startup.back_up_store(boot_for(config))
    assert isinstance(said, str)
    assert re.fullmatch(
        r"Backed up the store to \S+selfreg-\d{8}T\d{6}Z\S* \(.+, \d+\.\d\d s\)\.", said
    )
    assert len(list((config.data_dir / "backups").glob("selfreg-*.tar.gz"))) == 1


async def test_slack_token_accepted_rejected_or_unreachable(
    tmp_path: Path, emu: SlackEmulator
) -> None:
    path = str(write_config(tmp_path, ""))
    env = slack_env(emu, tmp_path / "data", mode="http")
    boot = boot_for(load_settings(path, env))
    said = await startup.check_slack_token(boot)
    assert isinstance(said, str) and said.startswith("accepted: ")
    assert boot.runtime.slack_token_checked

    rejected = boot_for(load_settings(path, dict(env, SLACK_BOT_TOKEN="xoxb-wrong")))
    with pytest.raises(
        SlackRejectedToken, match=r"Slack rejected SLACK_BOT_TOKEN \(invalid_auth\)"
    ):
        await startup.check_slack_token(rejected)

    nowhere = dict(env, SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/")
    unreachable = await startup.check_slack_token(boot_for(load_settings(path, nowhere)))
    assert unreachable == Outcome(
        mark="warn",
        detail="could not ask Slack (unreachable?): starting anyway, messages wait in the outbox",
    )


async def test_the_whole_sequence_runs_every_step_then_stops_clean(
    tmp_path: Path, marker: str, listener: int
) -> None:
    body = CHECK.format(port=listener) + COMPONENT.format(code=SLEEPER, marker=marker)
    config = load_settings(str(write_config(tmp_path, body)), env_for(tmp_path))
    out = io.StringIO()
    boot = boot_for(config, out)
    worker_pid = None
    try:
        await asyncio.wait_for(startup.run_steps(startup.startup_steps(boot), boot, out), 20)
        worker_pid = boot.runtime.parts.supervisor.components["worker"].instances[0].pid
        assert alive(worker_pid)
        assert boot.pid_file.exists() and config.control_socket.exists()
        boot.runtime.announce_started(detached=True)  # as under `selfreg start`:
        assert "own-log" in {task.get_name() for task in asyncio.all_tasks()}  # selfreg.log kept
    finally:
        await boot.runtime.stop()
        boot.release()
        gc.unfreeze()  # start_monitors froze what the process held: not the test's to keep
    assert "own-log" not in {task.get_name() for task in asyncio.all_tasks()}
    text = out.getvalue()
    data = config.data_dir
    expected = [
        r"  ok    Python              3\.\d+\.\d+ \(.+\)",
        r"  ok    web exposure        127\.0\.0\.1 is loopback: only this machine reaches it",
        r"  ok    executables         found for 1 component\(s\): worker",
        rf"  ok    data folder         {re.escape(str(data))} is writable \(.+ GB free\)",
        rf"  ok    single instance     {re.escape(str(data / 'selfreg.pid'))} holds pid {os.getpid()}",
        r"  ok    web port            127\.0\.0\.1: any free port",
        r"  skip  Slack token         Slack is off \(no SLACK_BOT_TOKEN\)",
        rf"  skip  backup              No store yet at {re.escape(str(config.db_path))}: .*",
        rf"  ok    store schema        {len(NAMES)} migrations applied \(m001_core \.\. {NAMES[-1]}\)",
        rf"  ok    store and servers   store {re.escape(str(config.db_path))}, web "
        r"http://127\.0\.0\.1:\d+, control socket .*selfreg\.sock, Slack off",
        rf"  ok    component worker    running, pid {worker_pid}",
        r"  ok    monitors            1 checks every 1s; jobs: .*checks:1s.*",
        r"  ok    first health check  1 ok",
    ]
    assert f"(`selfreg stop --data-dir {data}` stops it)" in text, "its folder, not ./var"
    lines = [line for line in lines_of(out) if line.startswith("  ")]
    assert len(lines) == len(expected), text
    for pattern, line in zip(expected, lines, strict=True):
        assert re.fullmatch(pattern + r"  \(\d+ ms\)", line), (pattern, line)
    assert not boot.pid_file.exists()
    assert not config.control_socket.exists()
    assert not alive(worker_pid)


async def test_a_failing_check_is_counted_by_the_first_health_check(tmp_path: Path) -> None:
    config = load_settings(
        str(write_config(tmp_path, CHECK.format(port=free_port()))), env_for(tmp_path)
    )
    out = io.StringIO()
    boot = boot_for(config, out)
    try:
        await asyncio.wait_for(startup.run_steps(startup.startup_steps(boot), boot, out), 20)
    finally:
        await boot.runtime.stop()
        boot.release()
        gc.unfreeze()
    assert re.search(r"  ok    first health check  1 critical  \(\d+ ms\)", out.getvalue())


async def test_a_component_that_fails_at_start_stops_the_sequence_there(
    tmp_path: Path, marker: str
) -> None:
    # its program is found (the prerequisite holds), but its working folder is missing
    body = COMPONENT.format(code=SLEEPER, marker=marker) + 'cwd = "no-such-folder"\n'
    config = load_settings(str(write_config(tmp_path, body)), env_for(tmp_path))
    out = io.StringIO()
    boot = boot_for(config, out)
    try:
        with pytest.raises(StepFailed) as failed:
            await asyncio.wait_for(startup.run_steps(startup.startup_steps(boot), boot, out), 20)
    finally:
        await boot.runtime.stop()
        boot.release()
    assert failed.value.step == "component worker"
    assert failed.value.reason == "could not be started (see the log above)"
    assert re.search(r"  FAIL  component worker +could not be started", out.getvalue())
    assert "monitors" not in out.getvalue()
    assert not boot.pid_file.exists()
    assert not config.control_socket.exists()


# ---- selfreg run ---------------------------------------------------------------------------
async def test_run_stops_at_a_taken_port_and_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], listener: int
) -> None:
    path = write_config(tmp_path, "")
    config = load_settings(str(path), env_for(tmp_path, SELFREG_WEB_PORT=str(listener)))
    assert await asyncio.wait_for(startup.run_foreground(config), 20) == 2
    seen = capsys.readouterr()
    assert seen.out.splitlines()[0].endswith(
        f"  INFO      selfreg  selfreg is starting: config {path}, data folder {config.data_dir}"
    )
    assert re.search(r"  FAIL  web port +the web server cannot listen on 127\.0\.0\.1", seen.out)
    assert "store and servers" not in seen.out
    assert "  ERROR     selfreg  selfreg did not start: web port failed" in seen.err
    assert not pidfile.pid_path(config.data_dir).exists()
    assert not config.control_socket.exists()


async def test_the_store_schema_step_migrates_in_a_child_process_and_then_skips(
    tmp_path: Path,
) -> None:
    config = load_settings(str(write_config(tmp_path, "")), env_for(tmp_path))
    boot = boot_for(config)

    first = await startup.migrate_store(boot)
    second = await startup.migrate_store(boot)

    assert first == f"{len(NAMES)} migrations applied (m001_core .. {NAMES[-1]})"
    assert second == Outcome(
        mark="skip", detail=f"up to date ({len(NAMES)} migrations applied before)"
    )
    assert pending_at(config.db_path) == []


def test_a_running_selfreg_never_imports_sqlite_utils(tmp_path: Path) -> None:
    """Its migrations ran in the child; ``-X importtime`` lists every import of the process."""
    config = write_config(tmp_path, "")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SELFREG_", "SLACK_"))}
    env.update(env_for(tmp_path), PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    output, errors = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with output.open("wb") as out, errors.open("wb") as err:
        run = subprocess.Popen(
            [sys.executable, "-X", "importtime", "-m", "bot", "run", "--config", str(config)],
            stdout=out, stderr=err, env=env, cwd=tmp_path,
        )  # fmt: skip
        try:
            for _ in range(600):  # 30 s at most
                if "selfreg is running" in output.read_text() or run.poll() is not None:
                    break
                time.sleep(0.05)
        finally:
            run.terminate()
            run.wait(timeout=30)
    said = output.read_text()
    assert "selfreg is running" in said, said + errors.read_text()[-2000:]
    assert re.search(rf"ok +store schema +{len(NAMES)} migrations applied", said), said
    imported = errors.read_text()
    assert re.search(r"\| +bot\.store\.db$", imported, re.M)  # the listing is there
    assert "sqlite_utils" not in imported


async def test_a_failed_migration_stops_the_start_with_the_childs_reason(tmp_path: Path) -> None:
    config = load_settings(str(write_config(tmp_path, "")), env_for(tmp_path))
    config.db_path.parent.mkdir(parents=True, exist_ok=True)
    config.db_path.write_bytes(b"not a database, but long enough to be read as one" * 100)

    with pytest.raises(StepFailed) as failed:
        await startup.migrate_store(boot_for(config))

    assert failed.value.step == "store schema"
    assert "the migrations failed (exit 1)" in failed.value.reason
    assert "file is not a database" in failed.value.reason


async def test_run_starts_prints_the_summary_and_stops_on_sigterm(tmp_path: Path) -> None:
    config = load_settings(str(write_config(tmp_path, "")), env_for(tmp_path))
    out = io.StringIO()
    async with foreground(config, out) as running:
        for _ in range(200):  # 10 s at most
            if "selfreg is running: " in out.getvalue() or running.done():
                break
            await asyncio.sleep(0.05)
        assert "selfreg is running: " in out.getvalue(), out.getvalue()
        assert pidfile.pid_path(config.data_dir).exists()
        # its SIGTERM handler is on this loop (installed before the first step)
        os.kill(os.getpid(), signal.SIGTERM)
        assert await asyncio.wait_for(running, 10) == 0
    text = out.getvalue()
    assert "  ok    first health check  no checks configured" in text
    assert text.rstrip().endswith("selfreg stopped.")
    assert not pidfile.pid_path(config.data_dir).exists()
    assert not config.control_socket.exists()
