"""bot.cli.observe in-process: ``health``, ``status`` and ``check run``, alone or asking the
running instance through its control socket (a stand-in here), with their exit codes."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from bot.config import load_settings
from bot.records import LatestState
from bot.store import open_store
from bot.store.state import save_latest
from checks.base import Status
from tests.support.control_standin import TCP_CHECK, ControlStandin, invoke, write_config
from tests.support.servers import free_port, tcp_listener


def observation(check: str, status: str, summary: str, **values: float) -> dict:
    return {
        "check": check,
        "subject": "",
        "status": status,
        "summary": summary,
        "values": values,
        "at": time.time(),
        "error": None,
    }


def test_health_alone_runs_the_checks_here_and_exits_0_when_all_are_ok(
    tmp_path: Path, data_dir: Path
) -> None:
    with tcp_listener() as sock:
        config = write_config(tmp_path, TCP_CHECK.format(name="db", port=sock.getsockname()[1]))
        result = invoke(data_dir, "health", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert re.search(r"^OK +db +connected to", result.stdout, re.M)
    assert "1 observations: 1 ok" in result.stdout
    assert not data_dir.exists(), "a health run alone records nothing"


def test_health_alone_in_json_exits_2_on_a_critical_check(tmp_path: Path, data_dir: Path) -> None:
    config = write_config(tmp_path, TCP_CHECK.format(name="db", port=free_port()))
    result = invoke(data_dir, "health", "--json", "--config", str(config))
    assert result.exit_code == 2
    [found] = json.loads(result.stdout)["observations"]
    assert (found["check"], found["status"]) == ("db", "critical")


def test_health_asks_the_running_instance_and_exits_1_on_its_warning(
    tmp_path: Path, data_dir: Path, control: ControlStandin
) -> None:
    control.answers[("POST", "/health")] = (
        200,
        {"observations": [observation("db", "warning", "slow to connect", connect_time=0.4)]},
    )
    config = write_config(tmp_path, TCP_CHECK.format(name="db", port=free_port()))
    result = invoke(data_dir, "health", "--config", str(config))
    assert result.exit_code == 1, result.output
    assert re.search(r"^WARN +db +slow to connect", result.stdout, re.M)
    assert [(m, r) for m, r, _ in control.asked] == [("POST", "/health")]


def test_status_before_the_first_run_says_selfreg_never_ran(tmp_path: Path, data_dir: Path) -> None:
    config = write_config(tmp_path, TCP_CHECK.format(name="db", port=free_port()))
    result = invoke(data_dir, "status", "--config", str(config))
    assert result.exit_code == 0
    assert "selfreg has not run with the data folder" in result.stdout


def test_status_reads_the_latest_states_from_the_store_when_none_runs(
    tmp_path: Path, data_dir: Path
) -> None:
    config = write_config(tmp_path, TCP_CHECK.format(name="db", port=free_port()))
    loaded = load_settings(str(config), {"SELFREG_DATA_DIR": str(data_dir)})
    store = open_store(loaded.db_path)
    now = time.time()
    with store.transaction():
        save_latest(
            store,
            [
                LatestState(
                    check="db",
                    subject="",
                    status=Status.CRITICAL,
                    summary="cannot connect",
                    at=now - 5,
                    confirmed=Status.CRITICAL,
                    confirmed_at=now - 65,
                )
            ],
        )
    store.close()
    result = invoke(data_dir, "status", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "from the store (selfreg is not running)" in result.stdout
    assert re.search(r"CRIT +db +1m\S* +\S+ ago +cannot connect", result.stdout)
    assert result.stdout.rstrip().endswith("1 failing: db")
    document = json.loads(invoke(data_dir, "status", "--json", "--config", str(config)).stdout)
    assert document["running"] is False
    assert [c["check"] for c in document["failing"]] == ["db"]
    assert document["incidents"] == [] and document["pending_approvals"] == []


def test_status_shows_the_running_instances_document(
    tmp_path: Path, data_dir: Path, control: ControlStandin
) -> None:
    control.answers[("GET", "/status")] = (
        200,
        {"running": True, "selfreg": {"pid": 4242}, "checks": [], "failing": []},
    )
    config = write_config(tmp_path, TCP_CHECK.format(name="db", port=free_port()))
    result = invoke(data_dir, "status", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("selfreg status from the running instance: pid 4242")


def test_check_run_prints_the_table_and_one_line_per_metric(tmp_path: Path, data_dir: Path) -> None:
    with tcp_listener() as sock:
        config = write_config(tmp_path, TCP_CHECK.format(name="db", port=sock.getsockname()[1]))
        result = invoke(data_dir, "check", "run", "db", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert re.search(r"^OK +db +connected to", result.stdout, re.M)
    assert re.search(r"^  db connect_time = [0-9.e-]+$", result.stdout, re.M)


def test_check_run_of_an_unknown_check_is_a_usage_error_64_naming_the_known_ones(
    tmp_path: Path, data_dir: Path
) -> None:
    config = write_config(tmp_path, TCP_CHECK.format(name="db", port=free_port()))
    result = invoke(data_dir, "check", "run", "nope", "--config", str(config))
    assert result.exit_code == 64
    assert result.stderr.startswith("selfreg: ")
    assert "nope" in result.stderr and "db" in result.stderr


def test_check_run_through_the_instance_passes_on_its_refusal_as_unknown_3(
    tmp_path: Path, data_dir: Path, control: ControlStandin
) -> None:
    control.answers[("POST", "/checks/db/run")] = (404, {"error": "no check named db here"})
    config = write_config(tmp_path, TCP_CHECK.format(name="db", port=free_port()))
    result = invoke(data_dir, "check", "run", "db", "--json", "--config", str(config))
    assert result.exit_code == 3
    assert result.stderr.strip() == "selfreg: no check named db here"
