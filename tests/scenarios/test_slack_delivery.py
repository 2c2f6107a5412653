"""Delivery to Slack when Slack misbehaves: 429 storms, outages, bad channels, bad blocks."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

from tests.support.servers import free_port
from tests.support.slack_selfreg import (
    block_text,
    running_selfreg,
    slack_env,
    top_level,
)
from tests.support.slack_standin import SlackEmulator

FAILING = (
    '[[checks]]\nkind = "tcp"\nname = "{name}"\nport = {port}\ninterval = "1s"\nopen_after = 1\n'
)


def config_with(tmp_path: Path, names: list[str]) -> Path:
    config = tmp_path / "selfreg.toml"
    config.write_text("\n".join(FAILING.format(name=n, port=free_port()) for n in names))
    return config


def fetch(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def titles(emu: SlackEmulator) -> list[str]:
    return [re.search(r"(svc\d)", m.text).group(1) for m in top_level(emu)]


def test_a_429_storm_delays_but_delivers_every_message_in_order(emu, tmp_path) -> None:
    emu.rate_limit("chat.postMessage", per_channel_per_sec=0.5, burst=1)  # stricter than our pace
    config = config_with(tmp_path, ["svc1", "svc2", "svc3", "svc4"])
    with running_selfreg(config, slack_env(emu, tmp_path / "data", mode="post")) as selfreg:
        emu.wait_for(lambda: len(top_level(emu)) >= 4, timeout=60)
        status = fetch(f"{selfreg.url}/status")
    opened_order = [i["check"] for i in sorted(status["incidents"], key=lambda i: i["id"])]
    assert titles(emu) == opened_order
    assert any(c.status == 429 for c in emu.calls("chat.postMessage")), "the storm happened"


def test_slack_down_then_back_loses_nothing(emu, tmp_path) -> None:
    emu.fail("chat.postMessage", status=503, times=4)
    config = config_with(tmp_path, ["svc1", "svc2"])
    with running_selfreg(config, slack_env(emu, tmp_path / "data", mode="post")):
        emu.wait_for(lambda: len(top_level(emu)) >= 2, timeout=40)
    assert sorted(titles(emu)) == ["svc1", "svc2"]
    assert sum(1 for c in emu.calls() if c.status == 503) == 4


def test_a_channel_that_does_not_exist_is_recorded_and_shown_while_health_stays_up(
    emu, tmp_path
) -> None:
    config = config_with(tmp_path, ["svc1"])
    env = slack_env(emu, tmp_path / "data", mode="post", SLACK_CHANNEL="C0NOWHERE")
    with running_selfreg(config, env) as selfreg:
        emu.wait_for(
            lambda: any(c.error == "channel_not_found" for c in emu.calls("chat.postMessage")),
            timeout=20,
        )
        emu.wait_for(lambda: fetch(f"{selfreg.url}/status")["delivery_failures"], timeout=10)
        health = fetch(f"{selfreg.url}/health")
        status = fetch(f"{selfreg.url}/status")
    assert health["status"] == "ok" and health["slack"]["last_error"] == "channel_not_found"
    assert status["delivery_failures"][0]["last_error"] == "channel_not_found"


def test_blocks_slack_rejects_fall_back_to_text(emu, tmp_path) -> None:
    emu.fail(
        "chat.postMessage",
        error="invalid_blocks",
        times=1,
        when=lambda args: bool(args.get("blocks")),  # an incident, not a plain notice
    )
    config = config_with(tmp_path, ["svc1"])
    with running_selfreg(config, slack_env(emu, tmp_path / "data", mode="post")):
        message = emu.wait_for(lambda: top_level(emu) and top_level(emu)[0], timeout=20)
    assert message.text.startswith("🔴 CRITICAL  svc1 is failing")
    assert message.blocks == [] or block_text(message) == ""


def test_a_bad_bot_token_stops_the_start_with_a_clear_reason(emu, tmp_path) -> None:
    from tests.support.selfreg_process import run_cli

    config = config_with(tmp_path, ["svc1"])
    env = slack_env(emu, tmp_path / "data", mode="post", SLACK_BOT_TOKEN="xoxb-wrong")
    done = run_cli("run", "--config", str(config), env=env)
    assert done.returncode == 2
    assert "Slack rejected SLACK_BOT_TOKEN (invalid_auth)" in done.stderr


def test_a_kill_9_between_slacks_answer_and_the_recorded_ts_posts_no_duplicate(
    emu, tmp_path
) -> None:
    from tests.support.selfreg_process import SelfregProcess

    emu.delay_reply("chat.postMessage", 20, times=1)  # Slack posts it; the answer comes late
    config = config_with(tmp_path, ["svc1"])
    env = slack_env(emu, tmp_path / "data", mode="post")
    first = SelfregProcess(config, env)
    try:
        first.wait_ready()
        posted = emu.wait_for(lambda: top_level(emu) and top_level(emu)[0], timeout=20)
    finally:
        first.kill9()  # while it still waits for the ts
    with running_selfreg(config, env):
        emu.wait_for(lambda: emu.calls("conversations.history"), timeout=20)
        emu.wait_for(
            lambda: any(c.args.get("ts") == posted.ts for c in emu.calls("chat.update")),
            timeout=20,
        )
    assert [m.ts for m in top_level(emu)] == [posted.ts], "found again, not posted twice"
