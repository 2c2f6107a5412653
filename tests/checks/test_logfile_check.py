"""The ``logfile`` check following real files that are appended, rotated and truncated."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

from checks.base import Observation, Status
from checks.logfile import LogfileCheck, LogfileSpec, _share
from tests.support.check_context import commit, make_context
from tests.support.clock import FakeClock

ERRORS = [{"regex": "ERROR", "severity": "warning"}]


class Follower:
    """One check with its committed state and clock, run the way the engine runs it."""

    def __init__(self, http: aiohttp.ClientSession, **fields: Any) -> None:
        fields.setdefault("patterns", ERRORS)
        self.check = LogfileCheck(LogfileSpec(kind="logfile", name="app-log", **fields))
        self.http = http
        self.clock = FakeClock()
        self.committed: dict[str, Any] = {}

    async def run(self, *, dry: bool = False) -> Observation:
        """Run once; commit the state unless ``dry`` (as ``selfreg health`` does)."""
        ctx = make_context(self.http, committed=self.committed, clock=self.clock)
        (observation,) = await self.check.run(ctx)
        if not dry:
            self.committed = commit(ctx.state)
        self.clock.advance(60)
        return observation


def append(path: Path, text: str | bytes) -> None:
    with open(path, "ab") as handle:
        handle.write(text.encode() if isinstance(text, str) else text)


async def watching(
    http: aiohttp.ClientSession, tmp_path: Path, **fields: Any
) -> tuple[Path, Follower]:
    """An empty app.log and a follower that has run once on it (so it reads what comes next)."""
    log = tmp_path / "app.log"
    log.touch()
    follower = Follower(http, paths=[str(log)], **fields)
    await follower.run()
    return log, follower


async def test_it_starts_at_the_end_of_existing_files_on_its_first_run(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    append(log, "ERROR written before selfreg started\n")
    follower = Follower(http, paths=[str(log)])

    first = await follower.run()
    append(log, "ERROR new one\n")
    second = await follower.run()

    assert (first.status, first.values["matches"]) == (Status.OK, 0)
    assert (second.status, second.values["matches"]) == (Status.WARNING, 1)
    assert second.summary == "1 matching line in the last 5m (0.2/min), last: ERROR new one"


async def test_it_reads_existing_files_from_their_start_when_told_to(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    append(log, "ERROR one\ninfo\nERROR two\n")

    observation = await Follower(http, paths=[str(log)], start_at="start").run()

    assert observation.values["matches"] == 2
    assert observation.values["bytes_read"] == len("ERROR one\ninfo\nERROR two\n")
    assert observation.summary == (
        "2 matching lines in the last 5m (0.4/min), last: ERROR one | ERROR two"
    )


async def test_it_reads_a_file_appearing_after_its_first_run_from_the_start(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    append(tmp_path / "a.log", "ERROR old\n")
    follower = Follower(http, paths=[str(tmp_path / "*.log")])
    await follower.run()

    append(tmp_path / "b.log", "ERROR in a new file\n")
    observation = await follower.run()

    assert observation.values["matches"] == 1
    assert observation.summary.endswith("ERROR in a new file")


async def test_it_reads_a_rotated_file_to_its_end_then_the_new_one(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    append(log, "ERROR already read\n")
    follower = Follower(http, paths=[str(tmp_path / "app.log*")], start_at="start")
    await follower.run()

    append(log, "ERROR just before the rotation\n")
    os.rename(log, tmp_path / "app.log.1")
    append(log, "ERROR in the new file\n")
    rotated = await follower.run()
    append(log, "ERROR later\n")
    later = await follower.run()

    assert rotated.values["matches"] == 2
    assert rotated.summary.endswith(
        "last: ERROR already read | ERROR just before the rotation | ERROR in the new file"
    )
    assert later.values["matches"] == 1
    assert later.summary.endswith("ERROR later")


async def test_it_reads_the_new_file_from_its_start_when_the_rotated_one_is_out_of_sight(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    log.touch()
    follower = Follower(http, paths=[str(log)])
    await follower.run()

    append(log, "ERROR lost with the rotated file\n")
    os.rename(log, tmp_path / "app.log.1")  # the glob names app.log only
    append(log, "ERROR in the new file\n")
    observation = await follower.run()

    assert observation.summary.endswith(", last: ERROR in the new file")
    assert list(follower.committed["files"]) == [str(log)]


async def test_it_reads_a_truncated_file_again_from_its_start(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    append(log, "info " * 40 + "\n")
    follower = Follower(http, paths=[str(log)], start_at="start")
    await follower.run()

    with open(log, "wb") as handle:  # copytruncate-style rotation: same inode, size 0
        handle.write(b"ERROR after the truncation\n")
    observation = await follower.run()

    assert observation.values["matches"] == 1
    assert observation.summary.endswith("ERROR after the truncation")


async def test_it_leaves_a_partial_line_for_the_next_run(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    log.touch()
    follower = Follower(http, paths=[str(log)])
    await follower.run()

    append(log, "ERROR half a li")
    partial = await follower.run()
    append(log, "ne\n")
    whole = await follower.run()

    assert (partial.values["matches"], partial.values["bytes_read"]) == (0, 0)
    assert whole.summary.endswith(", last: ERROR half a line")
    assert whole.values["bytes_read"] == len("ERROR half a line\n")


async def test_it_reads_at_most_its_budget_per_run_and_the_rest_later(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    append(log, "".join(f"ERROR line {n:02d} ......\n" for n in range(10)))  # 10 x 25 bytes
    follower = Follower(http, paths=[str(log)], start_at="start", max_bytes_per_run=100)

    counts = [(await follower.run()).values["matches"] for _ in range(4)]

    assert counts == [4, 4, 2, 0]


async def test_it_takes_a_line_longer_than_its_budget_in_pieces(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    append(log, "ERROR " + "x" * 150 + "\n")
    follower = Follower(http, paths=[str(log)], start_at="start", max_bytes_per_run=100)

    reads = [(await follower.run()).values["bytes_read"] for _ in range(3)]

    assert reads == [100, 57, 0]


async def test_it_never_moves_its_offsets_in_a_dry_run(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    log.touch()
    follower = Follower(http, paths=[str(log)])
    await follower.run()
    append(log, "ERROR seen by a health run\n")

    dry = await follower.run(dry=True)
    real = await follower.run()

    assert dry.values["matches"] == 1
    assert real.values["matches"] == 1


async def test_it_counts_matches_per_minute_over_its_window(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    log, follower = await watching(http, tmp_path, window="2m")
    append(log, "ERROR\n" * 5)

    observation = await follower.run()

    assert observation.values["window_matches"] == 5
    assert observation.values["matches_per_min"] == pytest.approx(2.5)


async def test_a_steady_stream_of_errors_keeps_one_failing_status_until_the_window_is_quiet(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    log, follower = await watching(http, tmp_path)  # 60 s between runs, window 5m
    statuses = []
    for minute in range(3):
        append(log, f"ERROR pool exhausted {minute}\n")
        statuses.append((await follower.run()).status)
    quiet = [await follower.run() for _ in range(5)]

    assert statuses == [Status.WARNING] * 3
    assert [o.status for o in quiet] == [Status.WARNING] * 4 + [Status.OK]
    assert quiet[2].summary.startswith("2 matching lines in the last 5m (0.4/min)")
    assert quiet[-1].summary == "no matching lines in the last 5m"


async def test_a_pattern_fails_only_once_the_window_holds_its_count(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    patterns = [{"regex": "ERROR", "severity": "critical", "count": 3}]
    log, follower = await watching(http, tmp_path, patterns=patterns)
    append(log, "ERROR one\nERROR two\n")
    below = await follower.run()
    append(log, "ERROR three\n")
    reached = await follower.run()

    assert (below.status, below.values["window_matches"]) == (Status.OK, 2)
    assert (reached.status, reached.values["window_matches"]) == (Status.CRITICAL, 3)


async def test_its_window_and_last_lines_survive_a_restart(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    log, follower = await watching(http, tmp_path)
    append(log, "ERROR a\nERROR b\nERROR c\nERROR d\n")
    await follower.run()
    restarted = Follower(http, paths=[str(log)])  # a new instance over the committed state
    restarted.committed, restarted.clock = follower.committed, follower.clock

    observation = await restarted.run()

    assert observation.status is Status.WARNING
    assert observation.values["matches"] == 0
    assert observation.values["window_matches"] == 4
    assert observation.summary.endswith("last: ERROR b | ERROR c | ERROR d")


async def test_it_reports_the_worst_severity_matched(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    log.touch()
    patterns = [
        {"regex": "FATAL", "severity": "critical", "name": "fatal"},
        {"regex": "WARN|FATAL", "severity": "warning"},
    ]
    follower = Follower(http, paths=[str(log)], patterns=patterns)
    await follower.run()
    append(log, "WARN slow\nFATAL disk gone\ninfo\n")

    observation = await follower.run()

    assert observation.status is Status.CRITICAL
    assert observation.values["matches"] == 2  # the FATAL line counts once
    assert observation.summary == (
        "2 matching lines in the last 5m (0.4/min), last (fatal): WARN slow | FATAL disk gone"
    )


async def test_it_decodes_broken_utf8_instead_of_failing(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    append(log, b"ERROR caf\xc3\xa9 \xff\xfe broken\r\n")

    observation = await Follower(http, paths=[str(log)], start_at="start").run()

    assert observation.summary.endswith("last: ERROR café \ufffd\ufffd broken")


async def test_it_trims_the_last_matching_line_to_200_characters(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    log = tmp_path / "app.log"
    append(log, "ERROR " + "y" * 500 + "\n")

    observation = await Follower(http, paths=[str(log)], start_at="start").run()

    assert observation.summary.endswith("last: " + ("ERROR " + "y" * 500)[:200])


async def test_it_warns_when_no_file_matches_its_paths(
    http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    observation = await Follower(http, paths=[str(tmp_path / "missing-*.log")]).run()

    assert observation.status is Status.WARNING
    assert observation.summary == f"no file matches {tmp_path}/missing-*.log"


def test_it_shares_its_budget_fairly_between_files() -> None:
    assert _share(100, [10, 500, 500]) == [10, 45, 45]
    assert _share(100, [0, 30, 20]) == [0, 30, 20]


def test_its_spec_rejects_a_pattern_that_does_not_compile() -> None:
    with pytest.raises(ValidationError, match="not a valid regular expression"):
        LogfileSpec(kind="logfile", name="app-log", paths=["x"], patterns=[{"regex": "("}])
