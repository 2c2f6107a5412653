"""The sync check runs the real rsync between folders: what it copies, what it never deletes,
the empty or missing source it refuses, and the run log the engine keeps."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from bot import prerequisites
from bot.clock import SystemClock
from bot.engine.runner import CheckRunner
from bot.engine.sync_runs import SyncRunLog
from bot.errors import PrerequisiteFailed
from bot.store import Store, sync_runs
from checks.base import Observation, Status
from checks.logfile import LogfileCheck, LogfileSpec
from checks.sync import SyncCheck, SyncSpec
from tests.support.check_context import commit, make_context
from tests.support.clock import FakeClock
from tests.test_prerequisites import loaded

pytestmark = pytest.mark.skipif(
    shutil.which("rsync") is None,
    reason="rsync is not installed (scripts/test installs Debian's rsync)",
)


def folders(tmp_path: Path) -> tuple[Path, Path]:
    source, destination = tmp_path / "here", tmp_path / "there"
    source.mkdir()
    destination.mkdir()
    return source, destination


async def sync_once(
    http: aiohttp.ClientSession, source: Path, destination: Path, **keys: Any
) -> Observation:
    spec = SyncSpec(name="shared", source=str(source), destination=str(destination), **keys)
    [seen] = await SyncCheck(spec).run(make_context(http, name="shared"))
    return seen


async def test_a_push_copies_new_files_and_counts_them(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    source, destination = folders(tmp_path)
    (source / "app.log").write_text("hello\n")
    (source / "logs").mkdir()
    (source / "logs" / "b.log").write_text("x" * 100)
    first = await sync_once(http, source, destination)
    second = await sync_once(http, source, destination)
    assert first.status is Status.OK, first.summary
    assert (destination / "logs" / "b.log").read_text() == "x" * 100
    assert first.values["files"] == 2 and first.values["bytes"] == 106
    assert first.values["exit_status"] == 0
    assert first.summary.startswith(f"{source} → {destination}: 2 files, 106 bytes in ")
    assert second.values["files"] == 0


async def test_nothing_is_deleted_on_the_destination_unless_asked(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    source, destination = folders(tmp_path)
    (source / "keep.txt").write_text("k")
    (destination / "only-there.txt").write_text("old backup")
    await sync_once(http, source, destination)
    assert (destination / "only-there.txt").exists()
    deleting = await sync_once(http, source, destination, delete=True)
    assert deleting.status is Status.OK
    assert not (destination / "only-there.txt").exists()
    assert deleting.values["deleted"] == 1


async def test_excluded_patterns_stay_behind(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    source, destination = folders(tmp_path)
    (source / "a.log").write_text("a")
    (source / "a.tmp").write_text("t")
    await sync_once(http, source, destination, exclude=["*.tmp"])
    assert sorted(p.name for p in destination.iterdir()) == ["a.log"]


async def test_an_empty_source_is_refused_and_the_destination_kept(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    source, destination = folders(tmp_path)
    (destination / "backup-1.tar.gz").write_text("precious")
    seen = await sync_once(http, source, destination, delete=True)
    assert seen.status is Status.CRITICAL
    assert seen.summary == (
        f"source {source} is empty; refusing to mirror an empty folder (no good sync yet)"
    )
    assert (destination / "backup-1.tar.gz").read_text() == "precious"


async def test_a_missing_source_is_refused(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    _, destination = folders(tmp_path)
    seen = await sync_once(http, tmp_path / "unmounted", destination, delete=True)
    assert seen.status is Status.CRITICAL
    assert seen.summary.startswith(f"source {tmp_path / 'unmounted'} is missing; refusing")


async def test_a_failing_rsync_is_critical_with_its_error_and_the_last_good_sync(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    source, destination = folders(tmp_path)
    (source / "a.log").write_text("a")
    spec = SyncSpec(name="shared", source=str(source), destination=str(destination))
    check = SyncCheck(spec)
    ctx = make_context(http, name="shared")
    await check.run(ctx)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    broken = SyncCheck(spec.model_copy(update={"destination": str(blocker / "sub")}))
    [seen] = await broken.run(make_context(http, name="shared", committed=commit(ctx.state)))
    assert seen.status is Status.CRITICAL
    assert seen.summary.startswith("rsync exited ")
    assert "(last good sync 0 s ago)" in seen.summary
    assert seen.values["exit_status"] != 0


async def test_a_sync_missed_while_selfreg_was_down_says_it_caught_up(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    source, destination = folders(tmp_path)
    (source / "a.log").write_text("a")
    check = SyncCheck(SyncSpec(name="shared", source=str(source), destination=str(destination)))
    clock = FakeClock()
    ctx = make_context(http, name="shared", clock=clock)
    await check.run(ctx)
    clock.advance(2 * 3600)  # selfreg was down: nothing ran for two hours (overdue after 30 m)
    later = make_context(http, name="shared", committed=commit(ctx.state), clock=clock)
    [seen] = await check.run(later)
    assert seen.status is Status.OK, "in step again now"
    assert seen.summary.endswith("(caught up: no good sync for 2 h before)"), seen.summary
    clock.advance(600)  # one interval: on time
    [again] = await check.run(make_context(http, committed=commit(later.state), clock=clock))
    assert "caught up" not in again.summary


async def test_a_failing_sync_that_is_overdue_is_critical_even_when_killed(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    source, destination = folders(tmp_path)
    (source / "a.log").write_text("a")
    hangs = tmp_path / "hanging-rsync"
    hangs.write_text("#!/bin/sh\nexec sleep 30\n")
    hangs.chmod(0o755)
    spec = SyncSpec(name="shared", source=str(source), destination=str(destination),
                    rsync=str(hangs), timeout="0.5s", overdue="1h")  # fmt: skip
    clock = FakeClock()
    on_time = {"last_ok": clock.now() - 600}
    [killed] = await SyncCheck(spec).run(make_context(http, committed=on_time, clock=clock))
    assert killed.status is Status.UNKNOWN, killed.summary
    assert killed.summary.endswith("killed (last good sync 10 m ago)"), killed.summary
    late = {"last_ok": clock.now() - 2 * 3600}
    [overdue] = await SyncCheck(spec).run(make_context(http, committed=late, clock=clock))
    assert overdue.status is Status.CRITICAL
    assert overdue.summary.endswith("killed (overdue: last good sync 2 h ago)"), overdue.summary


def test_direction_must_match_where_the_remote_side_is() -> None:
    with pytest.raises(ValidationError, match="direction 'push' needs a local source"):
        SyncSpec(name="s", source="mobile:/srv/logs", destination="/srv/logs")
    with pytest.raises(ValidationError, match="must be an absolute path or host:path"):
        SyncSpec(name="s", source="logs", destination="mobile:/srv/logs")
    pull = SyncSpec(name="s", source="mobile:/srv/logs", destination="/srv/logs", direction="pull")
    assert pull.delete is False


async def test_each_run_is_kept_in_sync_runs(
    tmp_path: Path, http: aiohttp.ClientSession, store: Store
) -> None:
    source, destination = folders(tmp_path)
    (source / "config.toml").write_text("x = 1\n")
    spec = SyncSpec(name="shared", source=str(source), destination=str(destination))
    empty = SyncSpec(name="empty", source=str(tmp_path / "none"), destination=str(destination))
    runner = CheckRunner(checks=[SyncCheck(spec), SyncCheck(empty)], store=store, clock=SystemClock(),
                         http=http)  # fmt: skip
    runner.on_recorded = SyncRunLog(store, lambda: runner.checks).recorded
    await runner.run_interval(600.0)
    runs = {run.name: run for run in sync_runs.recent(store)}
    assert runs["shared"].status == "ok" and runs["shared"].files == 1
    assert runs["shared"].bytes == 6 and runs["shared"].exit_status == 0
    assert runs["shared"].duration is not None
    assert runs["empty"].status == "critical" and runs["empty"].files is None
    assert "refusing" in runs["empty"].summary


async def test_a_logfile_check_reads_a_log_the_sync_brought_over(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    source, destination = folders(tmp_path)
    (source / "mobile.log").write_text("started\nERROR disk full\n")
    await sync_once(http, source, destination)
    spec = LogfileSpec(
        kind="logfile",
        name="mobile-log",
        paths=[str(destination / "mobile.log")],
        patterns=[{"regex": "ERROR", "severity": "critical"}],  # type: ignore[list-item]
        start_at="start",
    )
    [seen] = await LogfileCheck(spec).run(make_context(http, name="mobile-log"))
    assert seen.status is Status.CRITICAL
    assert "ERROR disk full" in seen.summary


def test_rsync_is_checked_at_start_like_a_component_program(tmp_path: Path) -> None:
    entry = {"name": "shared", "source": str(tmp_path), "destination": str(tmp_path / "b")}
    found = loaded(tmp_path, {"sync": [entry]})
    assert prerequisites.executables(found) == "no components configured; 1 sync: rsync found"
    missing = loaded(tmp_path, {"sync": [{**entry, "rsync": "rsync-not-installed"}]})
    with pytest.raises(PrerequisiteFailed) as failed:
        prerequisites.executables(missing)
    assert str(failed.value) == (
        "sync shared: rsync-not-installed not found on PATH; install it (Debian: apt-get "
        "install rsync) or set the entry's rsync to its path"
    )
