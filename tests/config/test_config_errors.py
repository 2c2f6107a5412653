"""A bad config names the file, the key path and the value, and starts nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError

BAD = """
[web]
port = "eighty"

[[checks]]
kind = "http"
name = "api"
url = "http://127.0.0.1:1/health"
interval = "3 fortnights"

[[checks]]
kind = "teleport"
name = "beam"
"""


def test_every_problem_names_its_file_key_and_value(tmp_path: Path) -> None:
    path = tmp_path / "selfreg.toml"
    path.write_text(BAD)
    with pytest.raises(ConfigError) as caught:
        load_settings(str(path), {})
    lines = [str(p) for p in caught.value.problems]
    assert f'{path}: web.port = "eighty": Input should be a valid integer' in lines[0]
    assert any(
        f'{path}: checks[0] "api".interval = "3 fortnights": expected a duration' in line
        for line in lines
    )
    assert any(
        f'{path}: checks[1] "beam".kind = "teleport": unknown check kind' in line for line in lines
    )


def test_invalid_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "selfreg.toml"
    path.write_text("[web\nport = 1\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(str(path), {})
    assert str(path) in str(caught.value) and "line 1" in str(caught.value)


def test_duplicate_names_and_dangling_remediations_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "selfreg.toml"
    path.write_text(
        '[[checks]]\nkind = "tcp"\nname = "db"\nport = 5432\nremediate = ["restart-db"]\n'
        '[[checks]]\nkind = "tcp"\nname = "db"\nport = 5433\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(str(path), {})
    text = str(caught.value)
    assert 'the name "db" is used twice' in text
    assert 'remediate names "restart-db"' in text


def test_config_check_prints_every_problem_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "selfreg.toml"
    path.write_text(BAD)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "config", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert 'web.port = "eighty"' in done.stderr
    assert '"3 fortnights"' in done.stderr
    assert "3 problem(s) found" in done.stderr


def test_run_with_a_bad_config_starts_nothing(tmp_path: Path) -> None:
    path = tmp_path / "selfreg.toml"
    path.write_text(BAD)
    data = tmp_path / "data"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "SELFREG_DATA_DIR": str(data)},
    )
    assert done.returncode == 2
    assert 'web.port = "eighty"' in done.stderr
    assert not data.exists(), "a refused config must not create the store"


def test_the_bundled_example_is_valid() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "config", "check", "examples/selfreg.toml"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "valid (6 checks, 1 component, 1 action)" in done.stdout
