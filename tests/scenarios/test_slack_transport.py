"""Slack transports: HTTP mode checks signatures; socket mode reconnects without hot loops."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.servers import free_port
from tests.support.slack_selfreg import ALICE, CHANNEL, running_selfreg, slack_env

CONFIG = '[[checks]]\nkind = "tcp"\nname = "db"\nport = {port}\ninterval = "1s"\n'


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "selfreg.toml"
    path.write_text(CONFIG.format(port=free_port()))
    return path


def test_http_mode_accepts_signed_requests_and_refuses_forged_ones(emu, config, tmp_path) -> None:
    with running_selfreg(config, slack_env(emu, tmp_path / "data", mode="http")) as selfreg:
        emu.use_http(f"{selfreg.url}/slack/events")
        ack = emu.slash("/selfreg", "status", user=ALICE, channel=CHANNEL)
        assert ack.status == 200 and "selfreg status" in str(ack.payload)
        assert ack.latency_ms < 3000
        assert (
            emu.slash("/selfreg", "status", user=ALICE, channel=CHANNEL, sign=False).status == 401
        )
        assert (
            emu.slash("/selfreg", "status", user=ALICE, channel=CHANNEL, timestamp_skew=-600).status
            == 401
        )
        assert (
            emu.slash("/selfreg", "status", user=ALICE, channel=CHANNEL, tamper=True).status == 401
        )
        assert emu.ssl_check().status == 200


def test_http_mode_with_a_web_token_still_lets_slack_in(emu, config, tmp_path) -> None:
    env = slack_env(emu, tmp_path / "data", mode="http", SELFREG_WEB_TOKEN="t0ken")
    with running_selfreg(config, env) as selfreg:
        emu.use_http(f"{selfreg.url}/slack/events")
        assert emu.slash("/selfreg", "help", user=ALICE, channel=CHANNEL).status == 200


def test_a_refresh_request_reconnects_through_a_new_connections_open(emu, config, tmp_path) -> None:
    with running_selfreg(config, slack_env(emu, tmp_path / "data")):
        emu.wait_connected(timeout=10)
        opened = emu.connections_opened()
        emu.disconnect("refresh_requested")
        emu.wait_for(lambda: emu.connections_opened() > opened, timeout=10)
        emu.wait_connected(timeout=10)
        ack = emu.slash("/selfreg", "help", user=ALICE, channel=CHANNEL)
        assert "selfreg commands" in str(ack.payload)


def test_link_disabled_does_not_reconnect_in_a_hot_loop(emu, config, tmp_path) -> None:
    with running_selfreg(config, slack_env(emu, tmp_path / "data")):
        emu.wait_connected(timeout=10)
        opened = emu.connections_opened()
        emu.fail("apps.connections.open", error="invalid_auth", times=None)
        emu.disconnect("link_disabled")
        import time

        time.sleep(4)
        attempts = (
            emu.connections_opened()
            - opened
            + len([c for c in emu.calls("apps.connections.open") if c.error == "invalid_auth"])
        )
    assert attempts <= 3, f"{attempts} reconnect attempts in 4 s"
