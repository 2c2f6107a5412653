"""A running selfreg imports the plugin modules of the kinds its config uses and no other, and
Slack's Bolt only when it is needed (HTTP mode: at the first request); loading a config
imports no kind's runtime code where its spec is kept apart. What a process imported is
looked at in a fresh ``python``, since this one has imported everything already."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import actions
import checks
from common.plugins import Registry
from tests.runtime.test_reload import environment

CONFIG = """
[models]
anomaly = false
failure_risk = false
forecast = false

[[checks]]
kind = "http"
name = "api"
url = "http://127.0.0.1:9/health"
remediate = ["restart"]

[[actions]]
kind = "run_command"
name = "restart"
command = ["/bin/true"]
"""

BUILD = """
import asyncio, io, json, sys, time
from bot.config import load_settings
from bot.runtime import build
from tests.support.clock import FakeClock

def plugins():
    return sorted(m for m in sys.modules if m.startswith(("checks.", "actions.")))

async def main():
    parts = build(load_settings(sys.argv[1]), clock=FakeClock(time.time()), out=io.StringIO())
    built = {"plugins": plugins(), "bolt": "slack_bolt" in sys.modules, "mode": parts.slack.connection.mode}
    parts.slack.app  # what the first request to /slack/events does
    built["bolt_after"] = "slack_bolt" in sys.modules
    await parts.http.close()
    parts.store.close()
    print(json.dumps(built))

asyncio.run(main())
"""
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """What a fresh process imported building every part for CONFIG (Slack in HTTP mode)."""
    return json.loads(_fresh_python(BUILD, tmp_path_factory.mktemp("lazy")).splitlines()[-1])


def _fresh_python(code: str, tmp_path: Path, config: str = CONFIG) -> str:
    """The output of ``code`` run by a new interpreter on ``config`` (its path in argv[1])."""
    (tmp_path / "selfreg.toml").write_text(config)
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("SELFREG_", "SLACK_"))}
    env = {**keep, **environment(tmp_path), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "selfreg.toml")],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def _kinds(modules: list[str], package: str, registry: Registry[Any]) -> set[str]:
    return {m.split(".")[1] for m in modules if m.startswith(f"{package}.")} & set(registry)


def test_only_the_configured_kinds_modules_are_imported(built: dict[str, object]) -> None:
    modules = built["plugins"]
    assert isinstance(modules, list)
    # checks.alertmanager is also the spec of the [alertmanager] section, which bot.config reads
    assert _kinds(modules, "checks", checks.REGISTRY) == {"http", "alertmanager"}
    assert _kinds(modules, "actions", actions.REGISTRY) == {"run_command"}


def test_bolt_is_imported_at_the_first_request_in_http_mode(built: dict[str, object]) -> None:
    assert built["mode"] == "http"
    assert built["bolt"] is False
    assert built["bolt_after"] is True


LOAD = """
import sys
from bot.config import load_settings
settings = load_settings(sys.argv[1]).settings
assert [type(c).__name__ for c in settings.checks] == ["HttpSpec", "PeerSpec"], settings.checks
print("aiohttp" in sys.modules, "checks.http" in sys.modules, "checks.peer" in sys.modules)
"""
PEERS = '\n[[peers]]\nname = "mobile"\nurl = "http://127.0.0.1:9"\n'


def test_loading_a_config_with_http_checks_and_peers_imports_no_aiohttp(tmp_path: Path) -> None:
    """What ``selfreg status`` does first: those kinds' specs are apart from their code."""
    assert _fresh_python(LOAD, tmp_path, CONFIG + PEERS).split() == ["False"] * 3


def test_every_kinds_spec_is_the_one_its_class_runs_with() -> None:
    for registry in (checks.REGISTRY, actions.REGISTRY):
        for kind, cls in registry.items():
            assert registry.spec(kind) is cls.Spec, kind


def test_listing_the_kinds_imports_none_and_asking_for_one_imports_it() -> None:
    registry: Registry[Any] = Registry("checks", {"tcp": "TcpCheck", "exec": "ExecCheck"})
    assert list(registry) == ["exec", "tcp"] and len(registry) == 2
    assert "tcp" in registry and ["tcp"] not in registry and "http" not in registry
    assert registry["tcp"].__name__ == "TcpCheck"
    with pytest.raises(KeyError):
        registry["http"]
