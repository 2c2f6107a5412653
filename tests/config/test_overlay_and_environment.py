"""SELFREG_ENV overlays merge by name; the environment moves data, host and port."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import interpreter
from bot.config import load_settings
from bot.errors import ConfigError

BASE = """
[web]
port = 8787

[[checks]]
kind = "tcp"
name = "db"
port = 5432
interval = "30s"

[[checks]]
kind = "tcp"
name = "cache"
port = 6379
"""

PROD = """
[web]
host = "127.0.0.2"

[[checks]]
name = "db"
kind = "tcp"
interval = "10s"

[[checks]]
kind = "tcp"
name = "queue"
port = 5672
"""


def test_an_overlay_merges_tables_and_named_lists(tmp_path: Path) -> None:
    (tmp_path / "selfreg.toml").write_text(BASE)
    (tmp_path / "selfreg.prod.toml").write_text(PROD)
    loaded = load_settings(str(tmp_path / "selfreg.toml"), {"SELFREG_ENV": "prod"})
    settings = loaded.settings
    assert (settings.web.host, settings.web.port) == ("127.0.0.2", 8787)
    by_name = {c.name: c for c in settings.checks}
    assert list(by_name) == ["db", "cache", "queue"]
    assert by_name["db"].interval == 10 and by_name["db"].port == 5432
    assert loaded.files == (tmp_path / "selfreg.toml", tmp_path / "selfreg.prod.toml")


def test_a_bad_value_in_the_overlay_is_blamed_on_the_overlay(tmp_path: Path) -> None:
    (tmp_path / "selfreg.toml").write_text(BASE)
    (tmp_path / "selfreg.prod.toml").write_text(
        '[[checks]]\nname = "db"\nkind = "tcp"\nport = "x"\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(str(tmp_path / "selfreg.toml"), {"SELFREG_ENV": "prod"})
    assert str(caught.value.problems[0]).startswith(
        f'{tmp_path / "selfreg.prod.toml"}: checks[0] "db".port = "x"'
    )


def test_a_missing_overlay_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "selfreg.toml").write_text(BASE)
    with pytest.raises(ConfigError, match=r"selfreg\.staging\.toml: no such file"):
        load_settings(str(tmp_path / "selfreg.toml"), {"SELFREG_ENV": "staging"})


def test_the_environment_overrides_where_things_go(tmp_path: Path) -> None:
    (tmp_path / "selfreg.toml").write_text(BASE)
    loaded = load_settings(
        None,
        {
            "SELFREG_CONFIG": str(tmp_path / "selfreg.toml"),
            "SELFREG_DATA_DIR": str(tmp_path / "data"),
            "SELFREG_WEB_HOST": "127.0.0.3",
            "SELFREG_WEB_PORT": "9999",
        },
    )
    assert loaded.data_dir == tmp_path / "data"
    assert loaded.db_path == tmp_path / "data" / "selfreg.db"
    assert (loaded.settings.web.host, loaded.settings.web.port) == ("127.0.0.3", 9999)


def test_a_bad_port_in_the_environment_is_named(tmp_path: Path) -> None:
    (tmp_path / "selfreg.toml").write_text(BASE)
    with pytest.raises(ConfigError, match='environment: SELFREG_WEB_PORT = "http"'):
        load_settings(str(tmp_path / "selfreg.toml"), {"SELFREG_WEB_PORT": "http"})


def test_the_log_format_comes_from_the_environment_and_a_bad_one_is_named(
    tmp_path: Path,
) -> None:
    (tmp_path / "selfreg.toml").write_text(BASE)
    path = str(tmp_path / "selfreg.toml")
    assert load_settings(path, {}).log_format == "text"
    assert load_settings(path, {"SELFREG_LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(ConfigError, match='SELFREG_LOG_FORMAT = "logfmt": expected text or json'):
        load_settings(path, {"SELFREG_LOG_FORMAT": "logfmt"})


def test_the_python_optimize_level_is_2_or_0_and_a_bad_one_is_named(tmp_path: Path) -> None:
    path = tmp_path / "selfreg.toml"
    path.write_text("")
    for ok in ("2", "0", ""):
        load_settings(path, {"SELFREG_PYTHON_OPTIMIZE": ok})
    assert interpreter.wanted({}) and interpreter.wanted({"SELFREG_PYTHON_OPTIMIZE": "2"})
    assert not interpreter.wanted({"SELFREG_PYTHON_OPTIMIZE": "0"})
    assert interpreter.daemon_flags() == ["-OO"]  # the test run leaves the variable unset
    with pytest.raises(ConfigError, match=r'SELFREG_PYTHON_OPTIMIZE = "1": expected 2 .* or 0'):
        load_settings(path, {"SELFREG_PYTHON_OPTIMIZE": "1"})
