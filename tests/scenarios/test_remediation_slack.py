"""Remediation through Slack, end to end: a hung service, a proposal, refusals, approval,
a real restart, verification, and an intact audit trail."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import psutil

from tests.support.selfreg_process import run_cli
from tests.support.servers import free_port
from tests.support.slack_selfreg import (
    ALICE,
    BOB,
    CHANNEL,
    MALLORY,
    block_text,
    running_selfreg,
    slack_env,
    top_level,
)
from tests.support.slack_standin import SlackEmulator

SERVICE = Path(__file__).resolve().parents[1] / "support" / "flaky_service.py"

CONFIG = """
[slack]
admins = ["U0BOB"]

[[components]]
name = "api"
command = ["python", "{service}", "{port}", "{marker}", "1.5", "{lives}"]
health = {{ tcp = "127.0.0.1:{port}" }}
restart = "always"

[[checks]]
kind = "tcp"
name = "api-port"
port = {port}
interval = "1s"
open_after = 1
remediate = ["restart-api"]

[[actions]]
name = "restart-api"
kind = "restart_component"
component = "api"
risk = "{risk}"
approvers = ["{alice}", "S0ONCALL"]
verify_after = "1s"
budget = "{budget}"
mode = "{mode}"
expires_after = "{expires}"
{extra}
"""


def write_config(
    tmp_path: Path,
    risk: str = "medium",
    *,
    lives: int = 1,
    budget: str = "3/1h",
    mode: str = "approve",
    expires: str = "1h",
    extra: str = "",
) -> Path:
    config = tmp_path / "selfreg.toml"
    text = CONFIG.format(
        service=SERVICE,
        port=free_port(),
        marker=tmp_path / "marker",
        risk=risk,
        alice=ALICE,
        lives=lives,
        budget=budget,
        mode=mode,
        expires=expires,
        extra=extra,
    )
    config.write_text(text)
    return config


def runs(tmp_path: Path) -> int:
    with sqlite3.connect(f"file:{tmp_path / 'data' / 'selfreg.db'}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT count(*) FROM action_runs").fetchone()[0]


def offered(emu: SlackEmulator):
    return emu.wait_for(
        lambda: (
            top_level(emu)
            and "Approve: restart api" in block_text(top_level(emu)[0])
            and top_level(emu)[0]
        ),
        timeout=20,
    )


def api_pid(tmp_path: Path) -> int:
    """The pid of the service's latest life."""
    return int((tmp_path / "marker").read_text().split()[-1])


def refusals(emu: SlackEmulator, text: str) -> list:
    return [h for h in emu.hooks() if text in str(h)]


def test_an_approved_restart_runs_once_verifies_and_resolves(emu, tmp_path) -> None:
    config = write_config(tmp_path)
    env = slack_env(emu, tmp_path / "data")
    with running_selfreg(config, env):
        emu.wait_connected(timeout=10)
        message = offered(emu)
        proposal_button = next(
            e
            for b in message.blocks
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"].startswith("proposal.approve.")
        )
        action_id = proposal_button["action_id"]
        first_pid = api_pid(tmp_path)

        emu.click(CHANNEL, message.ts, action_id, user=MALLORY)
        emu.wait_for(lambda: refusals(emu, "not an approver of restart-api"), timeout=10)
        assert runs(tmp_path) == 0

        emu.click(CHANNEL, message.ts, action_id, user=ALICE)
        emu.wait_for(
            lambda: "Verified:" in " ".join(r.text for r in emu.thread(CHANNEL, message.ts)),
            timeout=20,
        )
        emu.wait_for(
            lambda: (
                "approved by <@U0ALICE>, verified" in block_text(emu.message(CHANNEL, message.ts))
            ),
            timeout=10,
        )
        thread = " ".join(r.text for r in emu.thread(CHANNEL, message.ts))
        assert "Approved by <@U0ALICE>, running." in thread
        assert "Ran restart api" in thread and "Verified:" in thread
        final = block_text(emu.message(CHANNEL, message.ts))
        assert "restart api approved by <@U0ALICE>, verified" in final

        approval = [
            e for e in emu.envelopes() if action_id in str(e.body) and "U0ALICE" in str(e.body)
        ][-1]
        emu.redeliver(approval.envelope_id)  # a replay of the old click
        emu.wait_for(lambda: refusals(emu, "nothing changed"), timeout=10)
        assert runs(tmp_path) == 1
        assert (
            not psutil.pid_exists(first_pid)
            or psutil.Process(first_pid).status() == psutil.STATUS_ZOMBIE
        )

    done = run_cli("audit", "verify", "--config", str(config), env=env)
    assert done.returncode == 0 and "audit trail intact" in done.stdout


def test_high_risk_needs_a_second_person_and_the_kill_switch_stops_everything(
    emu, tmp_path
) -> None:
    config = write_config(tmp_path, risk="high")
    env = slack_env(emu, tmp_path / "data")
    emu.add_usergroup("S0ONCALL", [ALICE, BOB])  # Bob approves through the on-call group
    with running_selfreg(config, env):
        emu.wait_connected(timeout=10)
        message = offered(emu)
        action_id = next(
            e["action_id"]
            for b in message.blocks
            if b["type"] == "actions"
            for e in b["elements"]
            if e["action_id"].startswith("proposal.approve.")
        )
        emu.click(CHANNEL, message.ts, action_id, user=ALICE)
        emu.wait_for(
            lambda: "needs a second person" in block_text(emu.message(CHANNEL, message.ts)),
            timeout=10,
        )
        emu.click(CHANNEL, message.ts, action_id, user=ALICE)
        emu.wait_for(lambda: refusals(emu, "a second, different person must approve"), timeout=10)
        assert runs(tmp_path) == 0
        ack = emu.slash("/selfreg", "actions pause", user=ALICE, channel=CHANNEL)
        assert "Only admins may run" in str(ack.payload)
        ack = emu.slash("/selfreg", "actions pause", user=BOB, channel=CHANNEL)
        assert "Actions paused by <@U0BOB>" in str(ack.payload)
        emu.click(CHANNEL, message.ts, action_id, user=BOB)
        emu.wait_for(lambda: refusals(emu, "Actions are paused (kill switch"), timeout=10)
        assert runs(tmp_path) == 0
        emu.slash("/selfreg", "actions resume", user=BOB, channel=CHANNEL)
        emu.click(CHANNEL, message.ts, action_id, user=BOB)
        emu.wait_for(lambda: "RESOLVED" in block_text(emu.message(CHANNEL, message.ts)), timeout=20)
        assert runs(tmp_path) == 1


def approve_id(message) -> str:
    return next(
        e["action_id"]
        for b in message.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"].startswith("proposal.approve.")
    )


def test_an_expired_or_unknown_proposal_is_refused_and_nothing_runs(emu, tmp_path) -> None:
    config = write_config(tmp_path, expires="2s")
    with running_selfreg(config, slack_env(emu, tmp_path / "data")):
        emu.wait_connected(timeout=10)
        message = offered(emu)
        action_id = approve_id(message)
        import time

        time.sleep(2.5)
        # the expiry may already have removed the button: click the revision the user still sees
        emu.click_revision(message, action_id, user=ALICE)
        emu.wait_for(lambda: refusals(emu, "expired"), timeout=10)
        forged_blocks = [
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Approve"},
                        "action_id": "proposal.approve.999",
                        "value": "999",
                    }
                ],
            }
        ]
        forged = emu.add_message(CHANNEL, "forged", user=MALLORY, blocks=forged_blocks)
        emu.click(CHANNEL, forged.ts, "proposal.approve.999", user=ALICE)
        emu.wait_for(lambda: refusals(emu, "There is no proposal 999"), timeout=10)
        assert runs(tmp_path) == 0


def test_an_exhausted_budget_hands_the_incident_to_people(emu, tmp_path) -> None:
    config = write_config(tmp_path, budget="1/1h", extra='cooldown = "0s"')
    text = config.read_text()
    check = "[[checks]]" + text.split("[[checks]]")[1].split("[[actions]]")[0]
    again = check.replace('name = "api-port"', 'name = "api-port-again"')
    config.write_text(text.replace("[[actions]]", again + "\n[[actions]]"))
    with running_selfreg(config, slack_env(emu, tmp_path / "data")):
        emu.wait_connected(timeout=10)
        both = emu.wait_for(
            lambda: (
                len([m for m in top_level(emu) if "Approve: restart api" in block_text(m)]) == 2
                and top_level(emu)
            ),
            timeout=20,
        )
        emu.click(CHANNEL, both[0].ts, approve_id(both[0]), user=ALICE)
        emu.wait_for(lambda: runs(tmp_path) == 1, timeout=15)
        emu.click(CHANNEL, both[1].ts, approve_id(both[1]), user=ALICE)
        emu.wait_for(lambda: refusals(emu, "used its budget (1 runs per 1h)"), timeout=10)
        assert runs(tmp_path) == 1


def test_two_people_clicking_at_once_make_one_run(emu, tmp_path) -> None:
    import threading

    config = write_config(tmp_path)
    emu.add_usergroup("S0ONCALL", [ALICE, BOB])
    with running_selfreg(config, slack_env(emu, tmp_path / "data")):
        emu.wait_connected(timeout=10)
        message = offered(emu)
        action_id = approve_id(message)
        before = api_pid(tmp_path)
        clicks = [
            threading.Thread(
                target=emu.click, args=(CHANNEL, message.ts, action_id), kwargs={"user": who}
            )
            for who in (ALICE, BOB)
        ]
        for click in clicks:
            click.start()
        for click in clicks:
            click.join(timeout=10)
        emu.wait_for(lambda: runs(tmp_path) == 1, timeout=15)
        emu.wait_for(lambda: refusals(emu, "nothing changed"), timeout=10)
        emu.wait_for(lambda: api_pid(tmp_path) != before, timeout=15)
        import time

        time.sleep(1)
        assert runs(tmp_path) == 1
        assert len((tmp_path / "marker").read_text().split()) == 2, "one restart, one new pid"


def test_dry_run_and_shadow_leave_every_process_untouched(emu, tmp_path) -> None:
    config = write_config(tmp_path, extra="[remediation]\ndry_run = true")
    with running_selfreg(config, slack_env(emu, tmp_path / "data")):
        emu.wait_connected(timeout=10)
        message = offered(emu)
        pid = api_pid(tmp_path)
        emu.click(CHANNEL, message.ts, approve_id(message), user=ALICE)
        emu.wait_for(
            lambda: (
                "Dry run of restart api"
                in " ".join(r.text for r in emu.thread(CHANNEL, message.ts))
            ),
            timeout=15,
        )
        assert api_pid(tmp_path) == pid and psutil.pid_exists(pid)

    emu.reset()
    for user in (ALICE, BOB, MALLORY):
        emu.add_user(user)
    emu.add_channel(CHANNEL, name="alerts", members=["U0BOT", ALICE, BOB, MALLORY])
    shadow_dir = tmp_path / "shadow"
    shadow_dir.mkdir()
    config = write_config(shadow_dir, mode="shadow")
    with running_selfreg(config, slack_env(emu, shadow_dir / "data")):
        message = emu.wait_for(lambda: top_level(emu) and top_level(emu)[0], timeout=20)
        emu.wait_for(
            lambda: (
                "would have run restart api"
                in " ".join(r.text for r in emu.thread(CHANNEL, message.ts))
            ),
            timeout=15,
        )
        assert "Approve" not in block_text(emu.message(CHANNEL, message.ts))
        assert runs(shadow_dir) == 0
        assert len((shadow_dir / "marker").read_text().split()) == 1


def test_a_pending_proposal_survives_kill_9_and_still_works(emu, tmp_path) -> None:
    from tests.support.selfreg_process import SelfregProcess

    config = write_config(tmp_path)
    env = slack_env(emu, tmp_path / "data")
    first = SelfregProcess(config, env)
    try:
        first.wait_ready()
        message = offered(emu)
        pid = api_pid(tmp_path)
    finally:
        first.kill9()
    emu.wait_for(lambda: emu.connection_count() == 0, timeout=10)  # the dead socket is gone
    opened = emu.connections_opened()
    with running_selfreg(config, env):
        # the killed selfreg's socket may still look open: wait for the new one
        emu.wait_for(lambda: emu.connections_opened() > opened, timeout=10)
        emu.wait_connected(timeout=10)
        emu.click(CHANNEL, message.ts, approve_id(message), user=ALICE)
        emu.wait_for(
            lambda: "Verified:" in " ".join(r.text for r in emu.thread(CHANNEL, message.ts)),
            timeout=40,
        )
        lives = (tmp_path / "marker").read_text().split()
        assert lives[0] == str(pid) and len(lives) == 2, (
            "adopted, not duplicated, then restarted once"
        )
    assert len(top_level(emu)) == 1
    done = run_cli("audit", "verify", "--config", str(config), env=env)
    assert done.returncode == 0 and "audit trail intact" in done.stdout


CLI_USERS = '[cli]\nusers = { carol = "U0ALICE", dave = "U0BOB" }\n'


def test_the_cli_acts_as_its_mapped_approver_through_the_same_gate(emu, tmp_path) -> None:
    """[cli] users maps local users to approvers: ack, silence, run, approve and deny from the
    terminal pass the same gate as clicks, the two-person rule spans both doors (carol on the
    terminal is Alice in Slack), an unmapped user is refused, and the audit names the door."""
    emu.add_usergroup("S0ONCALL", [ALICE, BOB])
    config = write_config(tmp_path, risk="high", extra=CLI_USERS)
    env = slack_env(emu, tmp_path / "data")

    def cli(user: str, *args: str):
        return run_cli(*args, "--config", str(config), env={**env, "LOGNAME": user})

    with running_selfreg(config, env):
        emu.wait_connected(timeout=10)
        message = offered(emu)
        proposal = approve_id(message).rsplit(".", 1)[1]
        refused = cli("mallory", "ack", "1")
        assert refused.returncode == 1 and "'mallory' is not in the config's [cli] users" in (
            refused.stderr
        )
        assert cli("carol", "ack", "1").returncode == 0
        emu.wait_for(
            lambda: (
                "Acknowledged by <@U0ALICE>"
                in " ".join(r.text for r in emu.thread(CHANNEL, message.ts))
            ),
            timeout=10,
        )
        added = cli("dave", "silence", "check=nothing*", "1h", "--reason", "test", "--json")
        assert added.returncode == 0, added.stderr
        assert cli("dave", "unsilence", str(json.loads(added.stdout)["id"])).returncode == 0
        ran = cli("carol", "run", "restart-api", "1")
        assert ran.returncode == 1 and "two other people" in ran.stdout

        done = cli("carol", "approve", proposal)
        assert done.returncode == 0 and "First approval by <@U0ALICE>" in done.stdout
        done = cli("carol", "approve", proposal)
        assert done.returncode == 1 and "a second, different person must approve" in done.stdout
        emu.click(CHANNEL, message.ts, approve_id(message), user=ALICE)
        emu.wait_for(lambda: refusals(emu, "a second, different person"), timeout=10)
        assert runs(tmp_path) == 0, "Alice in Slack is carol on the terminal: one person"
        done = cli("dave", "approve", proposal)
        assert done.returncode == 0, done.stdout + done.stderr
        emu.wait_for(lambda: runs(tmp_path) == 1, timeout=15)
        done = cli("dave", "deny", proposal)
        assert done.returncode == 1 and "already" in done.stdout
    with sqlite3.connect(f"file:{tmp_path / 'data' / 'selfreg.db'}?mode=ro", uri=True) as conn:
        doors = conn.execute(
            "SELECT kind, actor, json_extract(detail, '$.door'), json_extract(detail, '$.local_user')"
            " FROM audit WHERE kind IN ('incident.acknowledged', 'decision.approve') ORDER BY id"
        ).fetchall()
    assert doors == [
        ("incident.acknowledged", ALICE, "cli", "carol"),
        ("decision.approve", ALICE, "cli", "carol"),  # the refused run's own approval
        ("decision.approve", ALICE, "cli", "carol"),
        ("decision.approve", ALICE, "cli", "carol"),
        ("decision.approve", ALICE, "slack", None),
        ("decision.approve", BOB, "cli", "dave"),
    ]


def test_shadow_records_when_a_person_later_runs_the_fix_and_deny_takes_a_reason(
    emu, tmp_path
) -> None:
    config = write_config(tmp_path, mode="shadow")
    with running_selfreg(config, slack_env(emu, tmp_path / "data")):
        emu.wait_connected(timeout=10)
        message = emu.wait_for(lambda: top_level(emu) and top_level(emu)[0], timeout=20)
        emu.wait_for(
            lambda: "would have run" in " ".join(r.text for r in emu.thread(CHANNEL, message.ts)),
            timeout=10,
        )
        ack = emu.slash("/selfreg", "run restart-api 1", user=ALICE, channel=CHANNEL)
        assert "Approved by <@U0ALICE>, running." in str(ack.payload)
        emu.wait_for(lambda: runs(tmp_path) == 1, timeout=15)
        ack = emu.slash("/selfreg", "actions", user=ALICE, channel=CHANNEL)
        assert "shadow: 1 of 1 later run by a person" in str(ack.payload)
        ack = emu.slash("/selfreg", "audit 1", user=ALICE, channel=CHANNEL)
        assert "shadow.confirmed" in str(ack.payload)


def test_deny_asks_why_in_a_modal_and_records_it(emu, tmp_path) -> None:
    config = write_config(tmp_path)
    with running_selfreg(config, slack_env(emu, tmp_path / "data")):
        emu.wait_connected(timeout=10)
        message = offered(emu)
        deny = approve_id(message).replace("approve", "deny")
        emu.click(CHANNEL, message.ts, deny, user=ALICE)
        view = emu.wait_for(lambda: emu.views() and emu.views()[-1], timeout=10)
        emu.submit_view(
            view.id,
            values={
                "reason": {"text": {"type": "plain_text_input", "value": "deploy in progress"}}
            },
            user=ALICE,
        )
        emu.wait_for(
            lambda: (
                "Denied by <@U0ALICE>: deploy in progress"
                in " ".join(r.text for r in emu.thread(CHANNEL, message.ts))
            ),
            timeout=10,
        )
        assert "denied by <@U0ALICE>" in block_text(emu.message(CHANNEL, message.ts))
        assert runs(tmp_path) == 0
