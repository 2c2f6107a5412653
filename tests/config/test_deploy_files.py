"""fly.toml, the Procfile and the Dockerfile describe one deployment: same command, port,
health path and data folder; the image builds where a Docker daemon is available."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot.config import ENVIRONMENT_VARIABLES
from bot.logline import SECRET_VARIABLES
from bot.web.app import OPEN_ROUTES

ROOT = Path(__file__).resolve().parents[2]
SECRETS = set(SECRET_VARIABLES)  # the variables whose values logs never show


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.strip().startswith("#") and not pending:
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        if whole:
            word, _, rest = whole.partition(" ")
            instructions.append((word.upper(), rest.strip()))
    return instructions


def docker_args(instructions: list[tuple[str, str]], word: str) -> list[str]:
    return [rest for name, rest in instructions if name == word]


def docker_env(instructions: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for rest in docker_args(instructions, "ENV"):
        for pair in shlex.split(rest):
            key, _, value = pair.partition("=")
            env[key] = value
    return env


def exec_form(text: str) -> list[str]:
    """A JSON exec-form argument (``["selfreg", "run"]``); shell form is refused."""
    value = json.loads(text)
    assert isinstance(value, list), f"use the exec form, not a shell string: {text}"
    return [str(v) for v in value]


def fly() -> dict[str, Any]:
    with (ROOT / "fly.toml").open("rb") as handle:
        return tomllib.load(handle)


def procfile() -> dict[str, str]:
    """The Procfile's process types and commands (comment lines skipped)."""
    lines = (ROOT / "Procfile").read_text().splitlines()
    entries = [line.split(":", 1) for line in lines if line and not line.startswith("#")]
    return {name: command.strip() for name, command in entries}


def test_the_three_files_start_the_same_command() -> None:
    instructions = dockerfile()
    (cmd,) = docker_args(instructions, "CMD")
    assert exec_form(cmd) == ["selfreg", "run"]
    assert procfile()["worker"] == " ".join(exec_form(cmd))
    assert not docker_args(instructions, "ENTRYPOINT"), "CMD alone: the Procfile's command"


def test_the_procfile_web_process_listens_on_the_platforms_port() -> None:
    """``web`` runs the same command on $PORT, beyond loopback (so SELFREG_WEB_TOKEN)."""
    words = shlex.split(procfile()["web"])
    assignments = dict(w.split("=", 1) for w in words if "=" in w and not w.startswith("-"))
    assert assignments == {"SELFREG_WEB_PORT": "$PORT", "SELFREG_WEB_HOST": "0.0.0.0"}
    assert words[len(assignments) :] == ["selfreg", "run"]
    assert set(assignments) <= set(ENVIRONMENT_VARIABLES)


def systemd_unit() -> dict[str, dict[str, str]]:
    text = (ROOT / "examples" / "selfreg.service").read_text()
    sections: dict[str, dict[str, str]] = {}
    current: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
        elif "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            current[key] = value
    return sections


def test_the_systemd_unit_is_notify_type_with_a_watchdog_and_restarts() -> None:
    service = systemd_unit()["Service"]
    assert service["Type"] == "notify" and service["NotifyAccess"] == "main"
    assert service["WatchdogSec"] and service["Restart"] == "on-failure"
    assert shlex.split(service["ExecStart"])[-3:-1] == ["run", "--config"]
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert "SELFREG_DATA_DIR=" in service["Environment"]


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("no systemd-analyze here: the unit's keys are checked above")
    text = (ROOT / "examples" / "selfreg.service").read_text()
    # the unit names /opt/selfreg/bin/selfreg: point it at a program that exists here
    (tmp_path / "selfreg.service").write_text(
        text.replace("/opt/selfreg/bin/selfreg", sys.executable)
    )
    checked = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "selfreg.service")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_three_files_agree_on_the_port() -> None:
    instructions = dockerfile()
    settings = fly()
    port = settings["http_service"]["internal_port"]
    assert docker_args(instructions, "EXPOSE") == [str(port)]
    assert docker_env(instructions)["SELFREG_WEB_PORT"] == str(port)
    assert settings["env"]["SELFREG_WEB_PORT"] == str(port)
    # Fly's proxy reaches the machine from outside it: selfreg must not bind loopback only
    assert settings["env"]["SELFREG_WEB_HOST"] == "0.0.0.0"
    assert docker_env(instructions)["SELFREG_WEB_HOST"] == "0.0.0.0"


def test_the_health_checks_ask_the_open_health_route() -> None:
    (check,) = fly()["http_service"]["checks"]
    assert check["path"] == "/health" and check["method"] == "GET"
    assert check["path"] in OPEN_ROUTES, "Fly's check carries no token: the route must be open"
    (healthcheck,) = docker_args(dockerfile(), "HEALTHCHECK")
    command = exec_form(healthcheck.split(" CMD ", 1)[1])
    assert command[0] == "python", "slim images have no curl"
    assert "'" + check["path"] + "'" in command[-1]
    port = fly()["http_service"]["internal_port"]
    assert f"'SELFREG_WEB_PORT', '{port}'" in command[-1]


def test_the_data_folder_is_the_mounted_volume() -> None:
    settings = fly()
    destination = settings["mounts"]["destination"]
    instructions = dockerfile()
    assert settings["env"]["SELFREG_DATA_DIR"] == destination
    assert docker_env(instructions)["SELFREG_DATA_DIR"] == destination
    assert [exec_form(v) for v in docker_args(instructions, "VOLUME")] == [[destination]]


def test_one_machine_that_never_stops_and_no_secret_in_the_files() -> None:
    settings = fly()
    service = settings["http_service"]
    assert service["min_machines_running"] == 1
    assert service["auto_stop_machines"] in ("off", False)
    env_names = set(settings["env"]) | set(docker_env(dockerfile()))
    ours = {n for n in env_names if not n.startswith(("PYTHON", "PIP_"))}
    assert ours <= set(ENVIRONMENT_VARIABLES), ours - set(ENVIRONMENT_VARIABLES)
    assert not env_names & SECRETS, "secrets go in with `fly secrets set`"
    assert ".env" in (ROOT / ".dockerignore").read_text().split()


def test_the_image_runs_as_a_non_root_user_on_python_311_slim() -> None:
    instructions = dockerfile()
    assert docker_args(instructions, "FROM") == ["python:3.11-slim"]
    (user,) = docker_args(instructions, "USER")
    assert user not in ("root", "0")


def test_the_readme_deploy_recipe_names_real_variables_and_one_machine() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Deploy to Fly.io", 1)[1].split("\n## ", 1)[0]
    secrets = re.findall(r"\b([A-Z][A-Z0-9_]{3,})=", section)
    assert {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_CHANNEL", "SELFREG_WEB_TOKEN"} <= set(
        secrets
    )
    assert set(secrets) <= set(ENVIRONMENT_VARIABLES), set(secrets) - set(ENVIRONMENT_VARIABLES)
    volume = fly()["mounts"]["source"]
    assert f"fly volumes create {volume}" in section
    assert "fly deploy --ha=false" in section
    assert "/health" in section


def _docker_daemon() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "info"], capture_output=True, timeout=30)
    return probe.returncode == 0


@pytest.mark.timeout(900)
def test_the_image_builds_and_starts_selfreg() -> None:
    if not _docker_daemon():
        pytest.skip("no Docker daemon here: the agreement tests above still ran")
    tag = f"selfreg-test:{os.getpid()}"
    built = subprocess.run(
        ["docker", "build", "-t", tag, str(ROOT)], capture_output=True, text=True, timeout=840
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    try:
        version = subprocess.run(
            ["docker", "run", "--rm", tag, "selfreg", "--version"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert version.returncode == 0 and "selfreg" in version.stdout, version.stderr
        who = subprocess.run(
            ["docker", "run", "--rm", tag, "id", "-u"], capture_output=True, text=True, timeout=60
        )
        assert who.stdout.strip() not in ("", "0")
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True, timeout=60)
