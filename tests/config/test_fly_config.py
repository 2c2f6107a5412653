"""Fly entries in a config: the keys they need, and the names they point at."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import ConfigError

GOOD = """
[[checks]]
kind = "fly"
name = "runner-fly"
app = "gpt-cursor-runner"
regions = ["sea"]
health_url = "https://gpt-cursor-runner.fly.dev/health"
deploy_affects = ["{affects}"]
remediate = ["runner-restart"]

[[checks]]
kind = "tcp"
name = "runner-port"
port = 5051

[[actions]]
name = "runner-restart"
kind = "fly_restart_machine"
app = "gpt-cursor-runner"

[[actions]]
name = "runner-rollback"
kind = "fly_rollback"
app = "gpt-cursor-runner"
check = "{check}"

[[actions]]
name = "runner-count"
kind = "fly_scale_count"
app = "gpt-cursor-runner"
max = 3
"""


def test_a_fly_config_loads_with_its_defaults(tmp_path: Path) -> None:
    path = tmp_path / "selfreg.toml"
    path.write_text(GOOD.format(affects="runner-port", check="runner-fly"))
    settings = load_settings(str(path), {}).settings
    [fly, _] = settings.checks
    assert fly.base_url == "https://api.machines.dev/v1" and fly.token_env == "FLY_API_TOKEN"
    assert fly.deploy_window == 1800
    rollback = settings.actions[1]
    assert rollback.risk.value == "high"


def test_names_a_fly_entry_points_at_must_exist(tmp_path: Path) -> None:
    path = tmp_path / "selfreg.toml"
    path.write_text(GOOD.format(affects="nope", check="runner-port"))
    with pytest.raises(ConfigError) as caught:
        load_settings(str(path), {})
    text = " ".join(str(p) for p in caught.value.problems)
    assert 'checks "runner-fly": deploy_affects names "nope"' in text
    assert (
        'actions "runner-rollback": check "runner-port" is not a [[checks]] entry of kind "fly"'
        in text
    )


def test_the_readme_fly_examples_are_one_valid_config(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Fly.io apps", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```toml\n(.*?)```", section, flags=re.DOTALL)
    path = tmp_path / "selfreg.toml"
    health = '[[checks]]\nkind = "http"\nname = "runner-health"\nurl = "https://x.example/"\n'
    path.write_text("\n".join([*blocks, health]))
    settings = load_settings(str(path), {}).settings
    kinds = {a.kind for a in settings.actions}
    assert kinds == {
        "fly_restart_machine",
        "fly_start_machine",
        "fly_scale_vm",
        "fly_scale_count",
        "fly_rollback",
    }
