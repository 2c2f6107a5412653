"""A full, read-only or locked store under a running selfreg, and a backup that does not fit.

The data folder is a 16 MB tmpfs mounted by the harness (root only: ``mount`` not
permitted means the caller skips). A real ``selfreg run`` checks every 200 ms and posts to
the Slack stand-in (post mode). Each fault:

- full: a filler file takes all but a few KB, so selfreg's own writes fill the rest;
- read-only: ``mount -o remount,ro``, which the kernel refuses while the store is open for
  writing (``tests/support/readonly_disk.py`` makes a disk read-only the way that works);
- locked: another process holds ``BEGIN EXCLUSIVE`` on the store;

is held for ``hold`` seconds, then removed. Observed per fault: what ``/health`` says during
it (status and reasons), whether selfreg's console said so, the Slack notices the stand-in
received (cannot record, records again), whether checks kept running (the ``self`` check's
runs in /metrics go on counting), the rows committed before the fault still there after it,
and how long after the cause went away /health was ok again. Last, a backup into the nearly
full folder must fail cleanly and leave no file behind.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.selfreg_process import SelfregProcess, run_cli, selfreg_env
from tests.support.servers import free_port
from tests.support.slack_selfreg import CHANNEL, new_emulator, slack_env
from tests.support.slack_standin import SlackEmulator

CANNOT_RECORD, RECORDS_AGAIN = "selfreg cannot record", "selfreg records again"

CONFIG = """
[alerts]
console = true

[backup]
folder = "{backups}"

[[checks]]
kind = "selfreg"
name = "self"
interval = "200ms"

[[checks]]
kind = "tcp"
name = "db"
host = "127.0.0.1"
port = {port}
interval = "200ms"

[[checks]]
kind = "system"
name = "host"
interval = "200ms"
"""


@dataclass
class FaultFigures:
    fault: str
    health_during: str = ""
    console_said: bool = False
    slack_told: tuple[int, int] = (0, 0)  # notices received: (cannot record, records again)
    slack_texts: list[str] = field(default_factory=list)  # the newest notice of each kind
    checks_ran_during: int = 0
    lost_rows: int = 0
    recovered_after: float | None = None
    notes: list[str] = field(default_factory=list)
    alert_after: float | None = None  # an incident's resolution reached Slack after the fault


def can_mount(where: Path) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)], capture_output=True
    )
    if done.returncode != 0:
        return False
    subprocess.run(["umount", str(where)], check=True)
    return True


@contextlib.contextmanager
def tmpfs(where: Path, size: str = "4m") -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


class DiskRig:
    """selfreg on a tmpfs data folder, and the faults done to it."""

    def __init__(self, tmp: Path, data: Path, slack: SlackEmulator | None = None) -> None:
        self.data = data
        self.db = data / "selfreg.db"
        self.slack = slack
        self.config = tmp / "selfreg.toml"
        self.port = free_port()  # the ``db`` check's: nothing listens, its incident is open
        self.config.write_text(CONFIG.format(port=self.port, backups=data / "backups"))
        self.env = slack_env(slack, data, mode="post") if slack else selfreg_env(data)
        self.selfreg = SelfregProcess(self.config, self.env)
        self.url = self.selfreg.wait_ready(timeout=60)

    def slack_notices(self) -> tuple[int, int]:
        """The store-fault notices Slack received so far: (cannot record, records again)."""
        if self.slack is None:
            return (0, 0)
        texts = [m.text for m in self.slack.messages(CHANNEL)]
        return (
            sum(CANNOT_RECORD in t for t in texts),
            sum(RECORDS_AGAIN in t for t in texts),
        )

    def health(self) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def check_runs(self) -> float:
        """selfreg_check_runs_total of the ``self`` check, from /metrics."""
        with urllib.request.urlopen(self.url + "/metrics", timeout=30) as response:
            text = response.read().decode()
        for line in text.splitlines():
            if line.startswith('selfreg_check_runs_total{check="self"}'):
                return float(line.split()[-1])
        return 0.0

    def committed(self) -> dict[str, tuple[int, int]]:
        """Per table: (highest id, rows) as committed now."""
        uri = f"file:{self.db}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=30)) as conn:
            return {
                t: tuple(
                    conn.execute(f"SELECT coalesce(max(rowid), 0), count(*) FROM {t}").fetchone()
                )
                # samples_recent: where a run's samples land (filed after five minutes)
                for t in ("events", "samples_recent", "transitions")
            }

    def lost_since(self, before: dict[str, tuple[int, int]]) -> int:
        """Rows committed before (ids up to the highest then) that are gone now (all of a
        table that is gone)."""
        uri = f"file:{self.db}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=30)) as conn:
            return sum(rows - _kept(conn, t, top) for t, (top, rows) in before.items())

    def fault(
        self, name: str, start: Callable[[], Callable[[], None]], hold: float
    ) -> FaultFigures:
        figures = FaultFigures(name)
        before = self.committed()
        seen_output = len(self.selfreg.output)
        first_runs, told = self.check_runs(), self.slack_notices()
        try:
            undo = start()
        except Refused as exc:
            figures.notes = [f"not measured: {exc}"]
            return figures
        try:
            time.sleep(hold)
            code, body = self.health()
            figures.health_during = (
                f"{code} {body.get('status')}: {'; '.join(body.get('reasons', []))}"
                f" ({body.get('store_error')}; loop lag {body.get('loop_lag') or 0:.2f} s)"
            )
            figures.checks_ran_during = int(self.check_runs() - first_runs)
        finally:
            undo()
        undone = time.monotonic()
        while time.monotonic() - undone < 60:
            code, body = self.health()
            if code == 200:
                figures.recovered_after = time.monotonic() - undone
                break
            time.sleep(0.2)
        figures.slack_told = self.told_since(told)
        figures.slack_texts = self.newest_notices()
        output = "".join(self.selfreg.output[seen_output:])
        figures.console_said = any(
            w in output.lower() for w in ("store", "database", "disk", "sqlite")
        )
        figures.notes = [
            line.strip()[:160]
            for line in output.splitlines()
            if "WARNING" in line or "ERROR" in line
        ][:3]
        figures.lost_rows = self.lost_since(before)
        return figures

    def newest_notices(self) -> list[str]:
        """The newest "cannot record" and "records again" texts Slack received."""
        texts = [m.text for m in self.slack.messages(CHANNEL)] if self.slack else []
        newest = (
            next((t for t in reversed(texts) if k in t), "") for k in (CANNOT_RECORD, RECORDS_AGAIN)
        )
        return [t for t in newest if t]

    def told_since(self, before: tuple[int, int], wait: float = 15.0) -> tuple[int, int]:
        """Slack's notices since ``before``, once both arrived (or ``wait`` seconds passed)."""
        for _ in range(int(wait / 0.2) if self.slack is not None else 0):
            now = self.slack_notices()
            if now[0] > before[0] and now[1] > before[1]:
                break
            time.sleep(0.2)
        now = self.slack_notices()
        return now[0] - before[0], now[1] - before[1]

    # ---- the faults -------------------------------------------------------------------------
    def fill(self) -> Callable[[], None]:
        filler = self.data / "filler"
        free = os.statvfs(self.data).f_bavail * os.statvfs(self.data).f_frsize
        with contextlib.suppress(OSError), filler.open("wb") as handle:
            handle.write(b"\0" * max(free - 16_384, 0))
        return lambda: filler.unlink(missing_ok=True)

    def read_only(self) -> Callable[[], None]:
        """``remount,ro``; None when the kernel refuses (EBUSY while a file is open for
        writing, which the running store always is)."""
        done = subprocess.run(["mount", "-o", "remount,ro", str(self.data)], capture_output=True)
        if done.returncode != 0:
            raise Refused(done.stderr.decode().strip() or f"mount exit {done.returncode}")
        return lambda: subprocess.run(["mount", "-o", "remount,rw", str(self.data)], check=True)

    def lock(self) -> Callable[[], None]:
        ready, release = multiprocessing.Event(), multiprocessing.Event()
        holder = multiprocessing.Process(
            target=_hold_exclusive, args=(str(self.db), ready, release)
        )
        holder.start()
        ready.wait(30)

        def undo() -> None:
            release.set()
            holder.join(30)

        return undo

    def backup_that_does_not_fit(self) -> tuple[int, str, list[str]]:
        """(exit code, what it said, files left in the backup folder) with the disk full."""
        undo = self.fill()
        try:
            done = run_cli("backup", "--config", str(self.config), env=self.env, timeout=120)
            left = (
                sorted(p.name for p in (self.data / "backups").glob("*"))
                if (self.data / "backups").exists()
                else []
            )
        finally:
            undo()
        return done.returncode, (done.stdout + done.stderr).strip()[-300:], left

    def stop(self) -> None:
        self.selfreg.stop()


class Refused(Exception):
    """The fault could not be made here."""


def _kept(conn: sqlite3.Connection, table: str, top: int) -> int:
    try:
        return conn.execute(f"SELECT count(*) FROM {table} WHERE rowid <= ?", (top,)).fetchone()[0]
    except sqlite3.DatabaseError:  # the table, or the whole file, did not survive
        return 0


def _hold_exclusive(db: str, ready, release) -> None:
    conn = sqlite3.connect(db, timeout=30, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    ready.set()
    release.wait(120)
    conn.execute("ROLLBACK")
    conn.close()


def run_faults(
    tmp: Path, hold: float = 5.0
) -> tuple[list[FaultFigures], tuple[int, str, list[str]]]:
    slack = new_emulator()
    try:
        with tmpfs(tmp / "data", "16m") as data:
            rig = DiskRig(tmp, data, slack)
            try:
                time.sleep(2.0)
                faults = [
                    rig.fault("full", rig.fill, hold),
                    rig.fault("read-only (remount,ro)", rig.read_only, hold),
                    rig.fault("locked", rig.lock, hold),
                ]
                backup = rig.backup_that_does_not_fit()
            finally:
                rig.stop()
    finally:
        slack.stop()
    return faults, backup


__all__ = ["DiskRig", "FaultFigures", "can_mount", "run_faults", "selfreg_env"]
