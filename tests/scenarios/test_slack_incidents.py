"""Incidents in Slack, end to end: one message per incident, commands, buttons, restarts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.selfreg_process import SelfregProcess
from tests.support.servers import free_port, tcp_listener
from tests.support.slack_selfreg import (
    ALICE,
    CHANNEL,
    MALLORY,
    block_text,
    is_notice,
    running_selfreg,
    slack_env,
    top_level,
)
from tests.support.slack_standin import SlackEmulator

CONFIG = """
[slack]
permissions = {{ silence = ["S0ONCALL"] }}

[alerts]
update_every = "1s"
console = true

[[checks]]
kind = "tcp"
name = "db"
port = {closed}
interval = "1s"

[[checks]]
kind = "tcp"
name = "cache"
port = {open}
interval = "1s"
"""


@pytest.fixture
def setup(tmp_path: Path, emu: SlackEmulator) -> Iterator[tuple[Path, dict[str, str]]]:
    with tcp_listener() as listener:
        config = tmp_path / "selfreg.toml"
        config.write_text(CONFIG.format(closed=free_port(), open=listener.getsockname()[1]))
        yield config, slack_env(emu, tmp_path / "data")


def incident_message(emu: SlackEmulator, timeout: float = 15.0):
    return emu.wait_for(lambda: top_level(emu) and top_level(emu)[0], timeout=timeout)


def test_a_failing_check_posts_exactly_one_message_and_repeats_update_it(emu, setup) -> None:
    config, env = setup
    with running_selfreg(config, env):
        message = incident_message(emu)
        assert "CRITICAL  db is failing" in block_text(message)
        emu.wait_for_call("chat.update", timeout=10, count=2)
    assert len(top_level(emu)) == 1
    revisions = emu.history(CHANNEL, message.ts)
    assert len(revisions) >= 3
    assert "3 checks failed" in block_text(revisions[-1]) or "checks failed" in block_text(
        revisions[-1]
    )
    posts = [
        c
        for c in emu.calls("chat.postMessage")
        if not c.args.get("thread_ts") and not is_notice(c.args.get("text", ""))
    ]
    assert len(posts) == 1


def test_slash_commands_answer_within_three_seconds(emu, setup) -> None:
    config, env = setup
    with running_selfreg(config, env):
        emu.wait_connected(timeout=10)
        incident_message(emu)
        ack = emu.slash("/selfreg", "status", user=ALICE, channel=CHANNEL)
        assert ack.latency_ms < 3000
        assert "selfreg status" in str(ack.payload) and "db" in str(ack.payload)
        ack = emu.slash("/selfreg", "alerts", user=ALICE, channel=CHANNEL)
        assert "1 open incident" in str(ack.payload)
        ack = emu.slash("/selfreg", "health", user=ALICE, channel=CHANNEL)
        assert ack.latency_ms < 3000 and "Running 2 checks now" in str(ack.payload)
        hook = emu.wait_for(
            lambda: [h for h in emu.hooks() if "every check, run now" in str(h)], timeout=10
        )
        assert hook
        ack = emu.slash("/selfreg", "frobnicate now", user=ALICE, channel=CHANNEL)
        assert "I don't know `frobnicate`" in str(ack.payload)
        assert "/selfreg silence MATCHER DURATION" in str(ack.payload)
        ack = emu.slash("/selfreg", "ack twelve", user=ALICE, channel=CHANNEL)
        assert "ID must be a number" in str(ack.payload)


def test_a_command_someone_may_not_run_is_refused_with_the_reason(emu, setup) -> None:
    config, env = setup
    with running_selfreg(config, env):
        emu.wait_connected(timeout=10)
        ack = emu.slash("/selfreg", "silence check=db 1h", user=MALLORY, channel=CHANNEL)
        assert "You may not run `silence`" in str(ack.payload)
        ack = emu.slash("/selfreg", "silence check=db 1h deploy", user=ALICE, channel=CHANNEL)
        assert "Silence #1 added for check=db" in str(ack.payload)


def test_acknowledge_updates_the_message_and_replies_in_its_thread(emu, setup) -> None:
    config, env = setup
    with running_selfreg(config, env):
        emu.wait_connected(timeout=10)
        message = incident_message(emu)
        ack = emu.click(CHANNEL, message.ts, "incident.ack", user=ALICE)
        assert ack.latency_ms < 3000
        emu.wait_for(
            lambda: "acknowledged by <@U0ALICE>" in block_text(emu.message(CHANNEL, message.ts)),
            timeout=10,
        )
        replies = emu.wait_for(lambda: emu.thread(CHANNEL, message.ts), timeout=10)
        assert any("Acknowledged by <@U0ALICE>" in r.text for r in replies)
        assert "Acknowledge" not in [
            b for b in block_text(emu.message(CHANNEL, message.ts)).split("\n")
        ]


def test_a_click_on_a_button_from_another_message_changes_nothing(emu, setup) -> None:
    config, env = setup
    with running_selfreg(config, env):
        emu.wait_connected(timeout=10)
        message = incident_message(emu)
        forged = emu.add_message(CHANNEL, "forged", user=MALLORY, blocks=message.blocks)
        emu.click(CHANNEL, forged.ts, "incident.ack", user=MALLORY)
        refusal = emu.wait_for(
            lambda: [h for h in emu.hooks() if "does not belong" in str(h)], timeout=10
        )
        assert refusal
    assert "acknowledged by" not in block_text(emu.message(CHANNEL, message.ts))


def test_kill_9_during_an_open_incident_resumes_the_same_message(emu, setup) -> None:
    config, env = setup
    first = SelfregProcess(config, env)
    try:
        first.wait_ready()
        message = incident_message(emu)
    finally:
        first.kill9()
    emu.wait_for(lambda: emu.connection_count() == 0, timeout=10)  # the dead socket is gone
    opened = emu.connections_opened()
    with running_selfreg(config, env):
        # the killed selfreg's socket may still look open: wait for the new one
        emu.wait_for(lambda: emu.connections_opened() > opened, timeout=10)
        emu.wait_connected(timeout=10)
        emu.click(CHANNEL, message.ts, "incident.ack", user=ALICE)
        emu.wait_for(
            lambda: "acknowledged by <@U0ALICE>" in block_text(emu.message(CHANNEL, message.ts)),
            timeout=10,
        )
    assert len(top_level(emu)) == 1, "no second post for the same incident"


def test_every_command_answers_within_three_seconds(emu, setup) -> None:
    config, env = setup
    with running_selfreg(config, env):
        emu.wait_connected(timeout=10)
        incident_message(emu)
        for text in (
            "status",
            "health",
            "alerts",
            "ack 1",
            "silence check=db 1h",
            "unsilence 1",
            "history 5",
            "help",
            "",
            "nonsense",
            "ack",
            "silence check=db soon",
        ):
            ack = emu.slash("/selfreg", text, user=ALICE, channel=CHANNEL)
            assert ack.latency_ms < 3000, (text, ack.latency_ms)
            assert ack.payload, f"'{text}' got an empty ack"


def test_a_recovery_turns_the_message_green_and_replies_in_its_thread(emu, tmp_path) -> None:
    from tests.support.servers import tcp_listener_on

    port = free_port()
    config = tmp_path / "selfreg.toml"
    config.write_text(f'[[checks]]\nkind = "tcp"\nname = "db"\nport = {port}\ninterval = "1s"\n')
    with running_selfreg(config, slack_env(emu, tmp_path / "data")):
        message = incident_message(emu)
        with tcp_listener_on(port):
            emu.wait_for(
                lambda: "RESOLVED after" in block_text(emu.message(CHANNEL, message.ts)), timeout=15
            )
            replies = emu.wait_for(
                lambda: [
                    r
                    for r in emu.thread(CHANNEL, message.ts)
                    if r.text.startswith("Resolved after")
                ],
                timeout=10,
            )
    assert replies and "connected to 127.0.0.1" in replies[0].text
    final = emu.message(CHANNEL, message.ts)
    assert not [b for b in final.blocks if b["type"] == "actions"], "no buttons left"
    assert len(top_level(emu)) == 1
