"""Forged and foreign clicks against a real ``selfreg run`` in Slack's HTTP mode.

One child ``selfreg run`` (signing secret set, so Bolt verifies every request) watches a TCP
port that is closed, so an incident opens with three proposals: ``fix`` (one person),
``fix-high`` (two people) and ``fix-short`` (expires after 5 s). Every action appends a line
to a marker file: that file is the real side effect, counted beside the ``action_runs`` rows.
Each attack is one click the stand-in delivers as Slack would (signed POST to
``/slack/events``), and each must be refused with a reason (HTTP 401 for a bad signature or
an old timestamp; an ephemeral reply through the response URL otherwise) and run nothing.
The races send clicks from several threads at once: exactly one run may come of them.

``bench/forged_clicks.py`` repeats the attacks; ``tests/reliability/test_forged_clicks.py``
runs them once.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.selfreg_process import SelfregProcess
from tests.support.servers import free_port, tcp_listener_on
from tests.support.slack_selfreg import ALICE, BOB, CHANNEL, MALLORY, slack_env, top_level
from tests.support.slack_standin import Message, SlackEmulator

CAROL = "U0CAROL"

CONFIG = """
[alerts]
console = false
flapping = {{ changes = 1000 }}  # each round resolves and reopens the incident on purpose

[[checks]]
kind = "tcp"
name = "api-port"
host = "127.0.0.1"
port = {port}
interval = "1s"
open_after = 1
remediate = ["fix", "fix-high", "fix-short", "fix-spare"]

[[actions]]
name = "fix"
kind = "run_command"
command = {command}
approvers = ["{alice}", "{bob}"]
verify_after = "30s"
cooldown = "0s"
budget = "100/1h"

[[actions]]
name = "fix-high"
kind = "run_command"
command = {command}
risk = "high"
approvers = ["{alice}", "{bob}", "{carol}"]
verify_after = "30s"
cooldown = "0s"
budget = "100/1h"

[[actions]]
name = "fix-short"
kind = "run_command"
command = {command}
approvers = ["{alice}", "{bob}"]
expires_after = "5s"
verify_after = "30s"

[[actions]]
name = "fix-spare"
kind = "run_command"
command = {command}
approvers = ["{alice}"]
verify_after = "30s"
"""


@dataclass
class Tally:
    """What the attacks did: refusals with their reasons, and runs counted two ways."""

    refused: dict[str, int] = field(default_factory=dict)
    not_refused: dict[str, list[str]] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)

    def note(self, case: str, reason: str | None) -> None:
        if reason:
            self.refused[case] = self.refused.get(case, 0) + 1
            self.reasons.setdefault(case, reason)
        else:
            self.not_refused.setdefault(case, []).append("no reason given")


class Rig:
    """The stand-in, the child selfreg and what the attacks need to reach them."""

    def __init__(
        self, emu: SlackEmulator, tmp: Path, extra_config: str = "", **extra_env: str
    ) -> None:
        self.emu = emu
        self.tmp = tmp
        self.marker = tmp / "runs.txt"
        self.port = free_port()
        emu.add_user(CAROL, "carol")
        emu.add_channel("C0OTHER", name="other", members=["U0BOT", ALICE, BOB, CAROL])
        self.config = config = tmp / "selfreg.toml"
        command = [sys.executable, "-c", f"open({str(self.marker)!r}, 'a').write('ran\\n')"]
        config.write_text(
            CONFIG.format(
                port=self.port,
                command=json.dumps(command),  # a JSON list of strings is a TOML array
                alice=ALICE,
                bob=BOB,
                carol=CAROL,
            )
            + extra_config
        )
        env = slack_env(emu, tmp / "data", mode="http", **extra_env)
        self.env = env
        self.selfreg = SelfregProcess(config, env)
        self.base = base = self.selfreg.wait_ready()
        emu.use_http(f"{base}/slack/events")

    def close(self) -> None:
        self.emu.use_http(None)
        self.selfreg.stop()

    # ---- what the attacks look at ---------------------------------------------------------
    def runs(self) -> tuple[int, int]:
        """(action_runs rows, lines the actions wrote): both must agree."""
        db = self.tmp / "data" / "selfreg.db"
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            rows = conn.execute("SELECT count(*) FROM action_runs").fetchone()[0]
        lines = len(self.marker.read_text().splitlines()) if self.marker.exists() else 0
        return rows, lines

    def incident_message(self, seen: set[str], timeout: float = 30) -> Message:
        """The incident message once it offers four proposals none of which is in ``seen``."""

        def fresh() -> Message | None:
            for message in reversed(top_level(self.emu)):
                ids = set(approve_ids(message))
                if len(ids) == 4 and not ids & seen:
                    return message
            return None

        return self.emu.wait_for(fresh, timeout=timeout)

    def click(self, message: Message, action_id: str, user: str, **signing: object) -> str | None:
        """One click; the reason it was refused (HTTP status or ephemeral text), or None."""
        before = len(self.emu.hooks())
        ack = self.emu.click_revision(message, action_id, user=user, **signing)
        if ack.status != 200:
            return f"HTTP {ack.status}"
        return self.reply_after(before)

    def reply_after(self, before: int, timeout: float = 5) -> str | None:
        """The first ephemeral reply (a response URL post) after the ``before``-th one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for hook in self.emu.hooks()[before:]:
                body = hook.body if isinstance(hook.body, dict) else {}
                return str(body.get("text") or "(a reply without text)")
            time.sleep(0.05)
        return None

    def buttons(self, message: Message) -> dict[str, str]:
        """The message's Approve button ids by the action they approve, read from the store."""
        db = self.tmp / "data" / "selfreg.db"
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            names = dict(conn.execute("SELECT id, action FROM proposals").fetchall())
        return {names[int(b.rsplit(".", 1)[1])]: b for b in approve_ids(message)}

    @contextmanager
    def port_open(self) -> Iterator[None]:
        """The watched port answers while the block runs: the incident resolves."""
        with tcp_listener_on(self.port):
            yield


def approve_ids(message: Message) -> list[str]:
    """The Approve button ids of a message ("proposal.approve.3")."""
    return [
        str(element.get("action_id", ""))
        for block in message.blocks
        if block.get("type") == "actions"
        for element in block.get("elements", [])
        if str(element.get("action_id", "")).startswith("proposal.approve.")
    ]


def race(clicks: list[Callable[[], str | None]]) -> list[str | None]:
    """Run the clicks from one thread each, released together."""
    gate = threading.Barrier(len(clicks))
    results: list[str | None] = [None] * len(clicks)

    def one(i: int) -> None:
        gate.wait(5)
        results[i] = clicks[i]()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(clicks))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def other_channel(message: Message) -> Message:
    """The same message, as if it sat in another channel with the same ts (Slack's ts is
    unique per channel only)."""
    return dataclasses.replace(message, channel="C0OTHER")


def attack_round(rig: Rig, tally: Tally, seen: set[str]) -> int:
    """One round of every attack on a fresh set of proposals; returns the legitimate runs
    it caused (2: one per race)."""
    message = rig.incident_message(seen)
    seen |= set(approve_ids(message))
    button = rig.buttons(message)
    fix, high, short, spare = (button[a] for a in ("fix", "fix-high", "fix-short", "fix-spare"))
    created = time.monotonic()
    tally.note("forged signature", rig.click(message, fix, ALICE, sign=False))
    tally.note(
        "replayed (timestamp 10 min old)", rig.click(message, fix, ALICE, timestamp_skew=-600)
    )
    tally.note("tampered body", rig.click(message, fix, ALICE, tamper=True))
    tally.note("not an approver", rig.click(message, fix, MALLORY))
    tally.note("another channel's message", rig.click(other_channel(message), fix, ALICE))
    _race_one_person(rig, tally, message, fix)
    _race_two_people(rig, tally, message, high)
    time.sleep(max(0.0, created + 5.5 - time.monotonic()))
    tally.note("expired proposal", rig.click(message, short, ALICE))
    with rig.port_open():
        rig.emu.wait_for(lambda: "RESOLVED" in _text(rig, message), timeout=20)
        tally.note("resolved incident (approve)", rig.click(message, spare, ALICE))
        tally.note("resolved incident (acknowledge)", rig.click(message, ACK, ALICE))
    return 2


ACK = "incident.ack"


def _text(rig: Rig, message: Message) -> str:
    current = rig.emu.message(CHANNEL, message.ts)
    return "" if current is None else f"{current.text} {current.blocks}"


def _race_one_person(rig: Rig, tally: Tally, message: Message, fix: str) -> None:
    """Alice and Bob click Approve on a one-person proposal at once: one runs, one is told."""
    before = len(rig.emu.hooks())
    race([lambda: _status(rig, message, fix, ALICE), lambda: _status(rig, message, fix, BOB)])
    tally.note("race on a one-person proposal (the loser)", rig.reply_after(before))


def _race_two_people(rig: Rig, tally: Tally, message: Message, high: str) -> None:
    """Alice and Bob at once on a fresh two-person proposal: together they approve it, so it
    runs once; Carol's click after that is told it is used, and Alice's second one too."""
    runs = rig.runs()[0]
    race([lambda: _status(rig, message, high, ALICE), lambda: _status(rig, message, high, BOB)])
    _settle(lambda: rig.runs()[0] > runs, 10)
    tally.note("third approver after a two-person approval", rig.click(message, high, CAROL))
    tally.note("first approver again after the run", rig.click(message, high, ALICE))


def _settle(done: Callable[[], bool], timeout: float) -> None:
    """Wait until ``done()`` or ``timeout`` seconds; the counts tell afterwards."""
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        time.sleep(0.05)


def _status(rig: Rig, message: Message, action_id: str, user: str) -> str | None:
    ack = rig.emu.click_revision(message, action_id, user=user)
    return None if ack.status == 200 else f"HTTP {ack.status}"
