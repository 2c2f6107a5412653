"""manifest.yml creates an app with socket mode, /selfreg, interactivity and only the scopes used."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_manifest_asks_for_what_selfreg_uses_and_no_more() -> None:
    text = (ROOT / "manifest.yml").read_text()
    scopes = re.findall(
        r"^\s+- ([a-z:.]+)$", text.split("bot:")[1].split("settings:")[0], flags=re.M
    )
    assert sorted(scopes) == [
        "channels:history",
        "chat:write",
        "commands",
        "files:write",
        "groups:history",
        "usergroups:read",
    ]
    assert "command: /selfreg" in text
    assert re.search(r"socket_mode_enabled: true", text)
    assert re.search(r"interactivity:\n\s+is_enabled: true", text)
    calls = set()
    for path in (ROOT / "bot").rglob("*.py"):
        calls.update(re.findall(r"client\.([a-z_]+)\(", path.read_text()))
        calls.update(re.findall(r'_call\(\s*"([a-z_]+)"', path.read_text()))
    needs = {
        "chat_postMessage": "chat:write",
        "chat_update": "chat:write",
        "usergroups_users_list": "usergroups:read",
        "conversations_history": "channels:history",
        "conversations_replies": "channels:history",
        "files_upload_v2": "files:write",
    }
    for call in calls:
        if call in needs:
            assert needs[call] in scopes
