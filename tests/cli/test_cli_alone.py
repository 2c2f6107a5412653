"""The CLI without a running instance: health runs checks here, status reads the store."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.selfreg_process import SelfregProcess, run_cli, selfreg_env
from tests.support.servers import free_port, tcp_listener

TCP = '[[checks]]\nkind = "tcp"\nname = "{name}"\nport = {port}\ninterval = "1s"\n{extra}\n'


def write(tmp_path: Path, *checks: str) -> Path:
    config = tmp_path / "selfreg.toml"
    config.write_text("\n".join(checks))
    return config


def test_health_exits_0_when_every_check_is_ok(tmp_path: Path) -> None:
    with tcp_listener() as sock:
        config = write(tmp_path, TCP.format(name="db", port=sock.getsockname()[1], extra=""))
        done = run_cli("health", "--config", str(config), env=selfreg_env(tmp_path / "data"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 observations: 1 ok" in done.stdout
    assert not (tmp_path / "data").exists(), "a health run alone writes nothing"


def test_health_exits_1_on_a_warning(tmp_path: Path) -> None:
    with tcp_listener() as sock:
        slow = 'connect_time = { warn = "0ms" }'
        config = write(tmp_path, TCP.format(name="db", port=sock.getsockname()[1], extra=slow))
        done = run_cli("health", "--config", str(config), env=selfreg_env(tmp_path / "data"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert re.search(r"WARN +db +connected to", done.stdout)


def test_health_exits_2_on_a_critical_check(tmp_path: Path) -> None:
    config = write(tmp_path, TCP.format(name="db", port=free_port(), extra=""))
    done = run_cli("health", "--json", "--config", str(config), env=selfreg_env(tmp_path / "data"))
    assert done.returncode == 2
    assert '"status": "critical"' in done.stdout


def test_status_reads_the_store_when_selfreg_is_not_running(tmp_path: Path) -> None:
    config = write(tmp_path, TCP.format(name="db", port=free_port(), extra=""))
    env = selfreg_env(tmp_path / "data")
    done = run_cli("status", "--config", str(config), env=env)
    assert "selfreg has not run with the data folder" in done.stdout
    selfreg = SelfregProcess(config, env)
    try:
        selfreg.wait_ready()
        selfreg.wait_for(r"db  Opened")
    finally:
        assert selfreg.stop() == 0
    done = run_cli("status", "--config", str(config), env=env)
    assert done.returncode == 0, done.stderr
    assert "from the store (selfreg is not running)" in done.stdout
    assert re.search(r"CRIT +db +\S+ +\S+ ago +cannot connect", done.stdout)
    assert "1 failing: db" in done.stdout
