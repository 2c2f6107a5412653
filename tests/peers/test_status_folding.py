"""A peer's line is folded into /status, `selfreg status` and `/selfreg status` under its name,
and `[[peers]]` / `[[sync]]` entries load as checks of their kinds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli.tables import status_screen
from bot.config import load_settings
from bot.config.problems import ConfigError
from bot.engine.status import build_status
from bot.records import LatestState
from bot.slack.views import status_view
from bot.status_facts import add_facts
from checks.base import Status

NOW = 1_700_000_000.0
LINE = "mobile: 11 ok, 1 critical — api-health failing for 4 m 0 s"
TWO_SIDES = """
[[peers]]
name = "mobile"
url = "https://mobile.example:8787"
token_env = "SELFREG_PEER_MOBILE_TOKEN"

[[sync]]
name = "shared-logs"
source = "/srv/selfreg/logs"
destination = "mobile:/srv/selfreg/from-main/logs"
exclude = ["*.tmp"]
"""


def latest() -> dict[tuple[str, str], LatestState]:
    def state(check: str, summary: str) -> LatestState:
        return LatestState(check=check, subject="", status=Status.OK, summary=summary,
                           at=NOW - 12, confirmed=Status.OK, confirmed_at=NOW - 600)  # fmt: skip

    return {("mobile", ""): state("mobile", LINE), ("web", ""): state("web", "200 in 41 ms")}


def test_the_status_document_carries_peers_under_their_names() -> None:
    document = build_status(latest(), [], running=True, now=NOW, peers={"mobile"})
    assert document["peers"] == [
        {"name": "mobile", "status": "ok", "summary": LINE, "at": NOW - 12,
         "values": {}},
    ]  # fmt: skip
    assert document["format"] == 1 and document["at"] == NOW
    json.dumps(document)  # what /status serves


def test_selfreg_status_shows_the_peer_line() -> None:
    document = build_status(latest(), [], running=True, now=NOW, peers={"mobile"})
    screen = status_screen(document, NOW)
    assert "Peers (1):" in screen
    assert f"ok        {LINE} (12 s ago)" in screen


def test_slack_status_has_a_peers_section() -> None:
    document = build_status(latest(), [], running=True, now=NOW, peers={"mobile"})
    rendered = status_view(document, {}, [], [], 3600, NOW)
    text = json.dumps(rendered.blocks, ensure_ascii=False)
    assert "*Peers* (1)" in text
    assert f"🟢 {LINE}" in text


def test_peers_and_sync_load_as_checks_and_fold_when_selfreg_is_not_running(
    tmp_path: Path,
) -> None:
    (tmp_path / "selfreg.toml").write_text(TWO_SIDES)
    config = load_settings(str(tmp_path / "selfreg.toml"), {"SELFREG_DATA_DIR": str(tmp_path)})
    kinds = {spec.name: spec.kind for spec in config.settings.checks}
    assert kinds == {"mobile": "peer", "shared-logs": "sync"}
    offline = build_status(latest(), [], running=False, now=NOW)  # the store's view: no names
    assert offline["peers"] == []
    assert [p["name"] for p in add_facts(offline, config)["peers"]] == ["mobile"]


def test_a_bad_peer_entry_names_its_key(tmp_path: Path) -> None:
    (tmp_path / "selfreg.toml").write_text('[[peers]]\nname = "mobile"\nurl = "mobile:8787"\n')
    with pytest.raises(ConfigError, match=r'peers\[0\] "mobile"\.url = "mobile:8787"'):
        load_settings(str(tmp_path / "selfreg.toml"), {"SELFREG_DATA_DIR": str(tmp_path)})
