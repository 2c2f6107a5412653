"""``kill -9`` of a busy selfreg at random moments (seeded), restarted each time.

The selfreg: a real ``selfreg run`` in Slack's HTTP mode against the stand-in; a TCP check on
a port the harness opens and closes (checks fail and recover), an escalation step 6 s after an
incident opens, a remediation whose action takes 1.5 s and appends to a file (an action is
running when a kill lands), a backup every 2 s (a backup is being written), and a component
(a sleeping process) that must be adopted, not started twice. Each round it runs for a random
0.5–4 s while the harness flips the port and approves what is pending, then it is killed.

After each kill and restart: every committed row the harness saw before the kill (events,
audit, incidents, action runs) is still there; ``PRAGMA integrity_check`` is ok; every backup
archive opens and carries its manifest; exactly one process of the component runs. At the
end: one Slack message per incident (none posted twice), at most one run per proposal and no
more side effects than runs. Two phases end the run: an incident whose escalation falls due
while selfreg is down escalates once after the restart; a proposal pending across a kill is
approved afterwards and runs once.
"""

from __future__ import annotations

import contextlib
import json
import random
import sqlite3
import sys
import tarfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from tests.support.click_attacks import approve_ids
from tests.support.selfreg_process import SelfregProcess
from tests.support.servers import free_port, tcp_listener_on
from tests.support.slack_selfreg import ALICE, CHANNEL, slack_env, top_level
from tests.support.slack_standin import SlackEmulator

CONFIG = """
[alerts]
console = false
flapping = {{ changes = 1000 }}
escalation = [{{ after = "6s", mention = ["U0BOB"] }}]

[backup]
every = "2s"
keep = 3

[[components]]
name = "worker"
command = ["python", "-c", "import time; time.sleep(3600)", "{marker}"]
restart = "always"

[[checks]]
kind = "tcp"
name = "api"
host = "127.0.0.1"
port = {port}
interval = "1s"
open_after = 1
remediate = ["fix"]

[[checks]]
kind = "tcp"
name = "late"
host = "127.0.0.1"
port = {late}
interval = "1s"
open_after = 1

[[actions]]
name = "fix"
kind = "run_command"
command = {command}
approvers = ["{alice}"]
cooldown = "0s"
budget = "1000/1h"
verify_after = "30s"
"""

TABLES = ("events", "audit", "incidents", "action_runs")


@dataclass
class ChaosFigures:
    kills: int = 0
    lost_rows: int = 0
    integrity_failures: int = 0
    bad_archives: int = 0
    component_counts: list[int] = field(default_factory=list)
    incidents: int = 0
    slack_posts: int = 0
    posted_twice: int = 0
    runs: int = 0
    proposals_run_twice: int = 0
    side_effects: int = 0
    escalations_after_restart: int = -1
    pending_approval_ran: int = -1
    approvals_clicked: int = 0


class Chaos:
    """The harness: the stand-in, the config, the flipped port, and one selfreg at a time."""

    def __init__(self, emu: SlackEmulator, tmp: Path, seed: int) -> None:
        self.emu, self.tmp, self.rng = emu, tmp, random.Random(seed)
        self.marker = f"selfreg-chaos-{uuid.uuid4().hex[:10]}"
        self.effects = tmp / "effects.txt"
        self.port, self.late = free_port(), free_port()
        command = [
            sys.executable,
            "-c",
            f"import time; time.sleep(1.5); open({str(self.effects)!r}, 'a').write('ran\\n')",
        ]
        self.config = tmp / "selfreg.toml"
        self.config.write_text(
            CONFIG.format(
                marker=self.marker,
                port=self.port,
                late=self.late,
                command=json.dumps(command),
                alice=ALICE,
            )
        )
        self.env = slack_env(emu, tmp / "data", mode="http")
        self.db = tmp / "data" / "selfreg.db"
        self.selfreg: SelfregProcess | None = None
        self.port_open: contextlib.ExitStack | None = None
        self.late_open = contextlib.ExitStack()
        self.late_open.enter_context(tcp_listener_on(self.late))
        self.figures = ChaosFigures()

    # ---- one selfreg at a time -------------------------------------------------------------
    def start(self) -> None:
        self.selfreg = SelfregProcess(self.config, self.env)
        base = self.selfreg.wait_ready(timeout=60)
        self.emu.use_http(f"{base}/slack/events")

    def kill(self) -> dict[str, int]:
        """``kill -9`` now; returns the committed row counts read just before."""
        assert self.selfreg is not None
        seen = self.counts()
        self.selfreg.kill9()
        self.figures.kills += 1
        return seen

    def stop(self) -> None:
        if self.selfreg is not None:
            self.selfreg.stop()
        self.emu.use_http(None)
        if self.port_open is not None:
            self.port_open.close()
        self.late_open.close()
        with contextlib.suppress(psutil.Error):
            for process in self.workers():
                process.kill()

    # ---- what the rounds do ------------------------------------------------------------------
    def busy(self, seconds: float) -> None:
        """Flip the port and approve pending proposals for ``seconds``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.rng.random() < 0.3:
                self.flip()
            if self.rng.random() < 0.5:
                self.approve_one()
            time.sleep(self.rng.uniform(0.1, 0.5))

    def flip(self) -> None:
        if self.port_open is None:
            self.port_open = contextlib.ExitStack()
            self.port_open.enter_context(tcp_listener_on(self.port))
        else:
            self.port_open.close()
            self.port_open = None

    def approve_one(self) -> None:
        for message in top_level(self.emu):
            for action_id in approve_ids(message):
                with contextlib.suppress(Exception):  # no ack in time: a kill may be landing
                    self.emu.click_revision(message, action_id, user=ALICE)
                    self.figures.approvals_clicked += 1
                return

    # ---- what is checked -------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        with contextlib.closing(self._ro()) as conn:
            return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}

    def _ro(self) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)

    def after_kill(self, seen: dict[str, int]) -> None:
        now = self.counts()
        self.figures.lost_rows += sum(max(seen[t] - now[t], 0) for t in TABLES)
        with contextlib.closing(sqlite3.connect(self.db, timeout=10)) as conn:
            if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                self.figures.integrity_failures += 1
        for archive in (self.tmp / "data" / "backups").glob("*.tar.gz"):
            try:
                with tarfile.open(archive) as tar:
                    tar.getmember("manifest.json")
            except (tarfile.TarError, KeyError, OSError):
                self.figures.bad_archives += 1

    def workers(self) -> list[psutil.Process]:
        found = []
        for process in psutil.process_iter(["cmdline", "status"]):
            line = process.info["cmdline"] or []
            if self.marker in line and process.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(process)
        return found

    def count_workers(self) -> None:
        time.sleep(1.0)  # adoption (or a duplicate) happens during the start
        self.figures.component_counts.append(len(self.workers()))

    def final(self) -> None:
        f = self.figures
        with contextlib.closing(self._ro()) as conn:
            incidents = conn.execute("SELECT id, slack_ts FROM incidents").fetchall()
            per_proposal = conn.execute(
                "SELECT count(*) FROM action_runs GROUP BY proposal_id HAVING count(*) > 1"
            ).fetchall()
            f.runs = conn.execute("SELECT count(*) FROM action_runs").fetchone()[0]
        f.incidents = len(incidents)
        f.proposals_run_twice = len(per_proposal)
        posts = [m for m in top_level(self.emu) if _is_incident(m)]
        f.slack_posts = len(posts)
        f.posted_twice = len(posts) - len({ts for _, ts in incidents if ts})
        f.side_effects = len(self.effects.read_text().splitlines()) if self.effects.exists() else 0


def _is_incident(message) -> bool:
    blocks = message.blocks[:1]
    header = blocks[0].get("text", {}).get("text", "") if blocks else ""
    return blocks and blocks[0].get("type") == "header" and not header.startswith("🌩")


@contextlib.contextmanager
def chaos(emu: SlackEmulator, tmp: Path, seed: int) -> Iterator[Chaos]:
    harness = Chaos(emu, tmp, seed)
    try:
        yield harness
    finally:
        harness.stop()


def kill_rounds(harness: Chaos, rounds: int) -> None:
    """``rounds`` kills at random moments, each followed by the checks and a restart."""
    harness.start()
    harness.count_workers()
    for _ in range(rounds):
        harness.busy(harness.rng.uniform(0.5, 4.0))
        seen = harness.kill()
        harness.after_kill(seen)
        harness.start()
        harness.count_workers()


def escalation_while_down(harness: Chaos) -> None:
    """An incident opens, selfreg is killed a second later and stays down past the 6 s
    escalation step; after the restart the step fires once."""
    harness.late_open.close()  # the "late" check fails: an incident opens
    before = _escalations(harness)
    _until(lambda: _late_incident(harness) is not None, 20)
    time.sleep(1.0)
    harness.after_kill(harness.kill())
    time.sleep(7.0)
    harness.start()
    _until(lambda: _escalations(harness) > before, 20)
    time.sleep(6.0)  # a second firing would land by now
    harness.figures.escalations_after_restart = _escalations(harness) - before


def _late_incident(harness: Chaos) -> str | None:
    with contextlib.closing(harness._ro()) as conn:
        row = conn.execute(
            "SELECT slack_ts FROM incidents WHERE \"check\" = 'late' AND state = 'open'"
        ).fetchone()
    return row[0] if row else None


def _escalations(harness: Chaos) -> int:
    ts = _late_incident(harness)
    if ts is None:
        return 0
    thread = harness.emu.thread(CHANNEL, ts)
    return sum(1 for m in thread if "<@U0BOB>" in m.text and m.ts != ts)


def pending_across_a_kill(harness: Chaos) -> None:
    """A fresh proposal waits; selfreg is killed and restarted; the Approve click runs it."""
    if harness.port_open is not None:
        harness.flip()  # the api check fails (again): a fresh proposal
    message = _until(lambda: _pending(harness), 30)
    harness.after_kill(harness.kill())
    harness.start()
    runs = harness.counts()["action_runs"]
    harness.emu.click_revision(message, approve_ids(message)[0], user=ALICE)
    _until(lambda: harness.counts()["action_runs"] > runs, 20)
    time.sleep(2.0)
    harness.figures.pending_approval_ran = harness.counts()["action_runs"] - runs


def _pending(harness: Chaos):
    for message in top_level(harness.emu):
        if approve_ids(message):
            current = harness.emu.message(CHANNEL, message.ts)
            if current is not None and approve_ids(current):
                return current
    return None


def _until(predicate, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := predicate():
            return found
        time.sleep(0.2)
    raise TimeoutError(f"not within {timeout} s")
