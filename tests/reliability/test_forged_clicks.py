"""Forged clicks on a ``selfreg run`` in socket mode. The full round of forged and foreign
clicks in HTTP mode runs in tests/reliability/test_secrets.py (with distinctive secrets, so
the same run is scanned for them); ``bench/forged_clicks.py`` repeats it many times."""

from __future__ import annotations

import time
from pathlib import Path

from tests.support.click_attacks import Rig
from tests.support.slack_selfreg import ALICE
from tests.support.slack_standin import SlackEmulator


def test_in_socket_mode_an_unsigned_post_to_slack_events_finds_no_route(
    emu: SlackEmulator, tmp_path: Path
) -> None:
    """Socket mode does not verify signatures (Slack's socket is authenticated instead), so
    its web server must not offer /slack/events: a forged click there once ran an action."""
    rig = Rig(emu, tmp_path, SLACK_APP_TOKEN=emu.config.app_token, SELFREG_SLACK_MODE="socket")
    try:
        message = rig.incident_message(set())
        fix = rig.buttons(message)["fix"]
        assert rig.click(message, fix, ALICE, sign=False) == "HTTP 404"
        assert rig.click(message, fix, ALICE) == "HTTP 404"
        time.sleep(1.0)
        assert rig.runs() == (0, 0)
    finally:
        rig.close()
