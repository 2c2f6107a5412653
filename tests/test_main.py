"""bot/__main__.py: ``python -m bot`` is the ``selfreg`` command, run here in-process."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from bot import __version__


def test_python_dash_m_bot_runs_the_selfreg_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # main() reads ./.env: an empty folder has none
    monkeypatch.setattr(sys, "argv", ["selfreg", "--version"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("bot", run_name="__main__")
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"selfreg, version {__version__}"


def test_main_loads_dot_env_without_overriding_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "selfreg.toml").write_text('[[checks]]\nkind = "tcp"\nname = "db"\nport = 1\n')
    (tmp_path / ".env").write_text(
        "SELFREG_CONFIG=selfreg.toml\nSELFREG_DATA_DIR=from-dot-env\nSELFREG_LOG_LEVEL=DEBUG\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SELFREG_DATA_DIR", str(tmp_path / "from-environment"))
    for loaded_from_dot_env in ("SELFREG_CONFIG", "SELFREG_LOG_LEVEL"):
        monkeypatch.setenv(loaded_from_dot_env, "")  # so that the test's end removes it again
        monkeypatch.delenv(loaded_from_dot_env)
    monkeypatch.setattr(sys, "argv", ["selfreg", "status"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("bot", run_name="__main__")
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert f"has not run with the data folder {tmp_path / 'from-environment'} yet" in out
    assert os.environ["SELFREG_CONFIG"] == "selfreg.toml", ".env filled what was unset"


def test_python_dash_m_bot_is_named_selfreg_for_usage_and_completion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["/x/bot/__main__.py"])  # what python -m bot passes
    monkeypatch.setenv("_SELFREG_COMPLETE", "bash_complete")
    monkeypatch.setenv("COMP_WORDS", "selfreg heal")
    monkeypatch.setenv("COMP_CWORD", "1")
    with pytest.raises(SystemExit):
        runpy.run_module("bot", run_name="__main__")
    assert capsys.readouterr().out.splitlines() == ["plain,health"]


def test_a_mistyped_command_exits_64_and_names_the_close_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["selfreg", "statsu"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("bot", run_name="__main__")
    assert exited.value.code == 64
    assert "Did you mean one of: 'restart', 'start', 'status'?" in capsys.readouterr().err


def test_status_loads_neither_slack_nor_the_models_nor_the_runtime(tmp_path: Path) -> None:
    """Commands are imported on lookup: ``selfreg status`` (here on a folder that never ran)
    leaves out what only ``selfreg run`` needs (docs/reliability.md, "Load and growth")."""
    heavy = ("slack_bolt", "slack_sdk", "sklearn", "models", "bot.runtime", "bot.web")
    code = (
        "import sys\nfrom bot.cli.commands import cli\n"
        "try:\n    cli(['--data-dir', sys.argv[1], 'status'], prog_name='selfreg')\n"
        "except SystemExit:\n    pass\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r} or m in {heavy!r}))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SELFREG_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "data")],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert "has not run with the data folder" in done.stdout, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
