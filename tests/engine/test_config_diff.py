"""The config diff: + added, − removed, ~ changed (with the keys), live keys and restart keys."""

from __future__ import annotations

from pathlib import Path

from bot.config import LoadedConfig, validate
from bot.engine.config_diff import diff, names


def loaded(document: dict, **fields) -> LoadedConfig:
    settings = validate(document, [(Path("selfreg.toml"), document)])
    return LoadedConfig(
        settings=settings,
        files=(Path("selfreg.toml"),),
        data_dir=fields.pop("data_dir", Path("var")),
        web_token=None,
        log_level="INFO",
        **fields,
    )


BASE = {
    "checks": [
        {"kind": "tcp", "name": "old-api", "port": 1},
        {"kind": "tcp", "name": "db", "port": 2},
    ],
    "components": [{"name": "api", "command": ["python", "-V"]}],
}


def test_entries_are_listed_as_added_removed_and_changed() -> None:
    new = {
        "checks": [
            {"kind": "tcp", "name": "db", "port": 2, "interval": "7s"},
            {"kind": "tcp", "name": "disk-data", "port": 3},
        ],
        "components": [{"name": "api", "command": ["python", "-VV"]}],
    }
    change = diff(loaded(BASE), loaded(new), loaded(BASE))
    assert names(change.entries) == [
        "+ check disk-data",
        "− check old-api",
        "~ check db (interval)",
        "~ component api (command)",
    ]
    assert change.of("checks", "−") == ["old-api"]
    assert change.live == () and change.restart == ()


def test_the_same_config_changes_nothing() -> None:
    change = diff(loaded(BASE), loaded(BASE), loaded(BASE))
    assert not change.applies_anything and change.restart == ()


def test_keys_a_running_process_cannot_change_are_named_as_needing_a_restart() -> None:
    new = {**BASE, "web": {"port": 9999}, "alerts": {"cooldown": "11m"}}
    change = diff(loaded(BASE), loaded(new), loaded(BASE))
    assert change.restart == ("web.port",)
    assert change.live == ("alerts.cooldown",)
    moved = diff(loaded(BASE), loaded(BASE, data_dir=Path("/elsewhere")), loaded(BASE))
    assert moved.restart == ("data folder (SELFREG_DATA_DIR)",)


def test_actions_need_a_restart_when_none_were_configured_at_start() -> None:
    new = {
        **BASE,
        "actions": [
            {"name": "restart-api", "kind": "restart_component", "component": "api"},
        ],
    }
    change = diff(loaded(BASE), loaded(new), loaded(BASE), actions_live=False)
    assert change.entries == ()
    assert change.restart == ("actions (none were configured at start)",)


def test_alertmanager_routes_apply_live_and_the_hook_itself_needs_a_restart() -> None:
    routes = [{"alertname": "X", "actions": ["fix"]}]
    actions = [{"kind": "run_command", "name": "fix", "command": ["/bin/true"]}]
    base = {**BASE, "actions": actions, "alertmanager": {}}
    added = diff(loaded(BASE), loaded(base), loaded(BASE))
    assert "alertmanager" in added.restart and "+ check alertmanager" in names(added.entries)
    routed = {**base, "alertmanager": {"routes": routes}}
    change = diff(loaded(base), loaded(routed), loaded(base))
    assert change.live == ("alertmanager.routes",) and change.restart == ()
    token = {**base, "alertmanager": {"token_env": "OTHER"}}
    assert diff(loaded(base), loaded(token), loaded(base)).restart == ("alertmanager.token_env",)
