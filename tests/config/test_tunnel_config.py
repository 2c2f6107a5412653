"""The tunnel kinds' config: a component that names nothing and a malformed probe are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError

CONFIG = """
[[components]]
name = "ngrok"
command = ["ngrok", "http", "5051"]

[[checks]]
kind = "ngrok"
name = "tunnel"
component = "{component}"
probe = {{ path = "/health", probe_origin = "{origin}" }}
"""


def load(tmp_path: Path, component: str = "ngrok", origin: str = "http://127.0.0.1:4041"):
    path = tmp_path / "selfreg.toml"
    path.write_text(CONFIG.format(component=component, origin=origin))
    return path, load_settings(str(path), {})


def test_a_check_may_name_the_component_running_its_agent(tmp_path: Path) -> None:
    _, loaded = load(tmp_path)
    [check] = loaded.settings.checks
    assert check.component == "ngrok" and check.probe.path == "/health"


def test_a_component_that_is_not_configured_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, component="ngrokk")
    assert 'checks "tunnel": component names "ngrokk", which is not a [[components]] entry' in (
        str(caught.value)
    )


def test_a_probe_origin_with_a_path_is_refused_by_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, origin="http://127.0.0.1:4041/api")
    assert 'checks[0] "tunnel".probe.probe_origin = "http://127.0.0.1:4041/api"' in str(
        caught.value
    )
