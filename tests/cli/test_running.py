"""bot.cli.running: asking the running instance through its control socket (a stand-in here),
and running checks here when none answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli.running import ask_running, run_checks
from bot.config import LoadedConfig, load_settings
from bot.errors import UserError
from tests.support.control_standin import TCP_CHECK, ControlStandin, write_config
from tests.support.servers import free_port, tcp_listener


def loaded(tmp_path: Path, data_dir: Path, port: int) -> LoadedConfig:
    config = write_config(tmp_path, TCP_CHECK.format(name="db", port=port))
    return load_settings(str(config), {"SELFREG_DATA_DIR": str(data_dir)})


def test_nothing_running_is_none_or_the_refusal_given(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = loaded(tmp_path, data_dir, free_port())
    assert ask_running(config, "GET", "/models") is None
    with pytest.raises(SystemExit) as exited:
        ask_running(config, "GET", "/models", not_running="start selfreg first")
    assert exited.value.code == 2
    assert capsys.readouterr().err.strip() == "selfreg: start selfreg first"


def test_the_instances_answer_comes_back_and_the_body_reaches_it(
    tmp_path: Path, data_dir: Path, control: ControlStandin
) -> None:
    control.answers[("POST", "/reload")] = (200, {"applied": True, "ok": True, "text": "done"})
    config = loaded(tmp_path, data_dir, free_port())
    answer = ask_running(config, "POST", "/reload", body={"user": "ann"}, timeout=5)
    assert answer == {"applied": True, "ok": True, "text": "done"}
    assert control.asked == [("POST", "/reload", {"user": "ann"})]


def test_a_refusal_from_the_instance_exits_2_with_its_words(
    tmp_path: Path, data_dir: Path, control: ControlStandin, capsys: pytest.CaptureFixture[str]
) -> None:
    control.answers[("GET", "/models")] = (404, {"error": "every model is off in [models]"})
    config = loaded(tmp_path, data_dir, free_port())
    with pytest.raises(SystemExit) as exited:
        ask_running(config, "GET", "/models")
    assert exited.value.code == 2
    assert capsys.readouterr().err.strip() == "selfreg: every model is off in [models]"


def test_run_checks_asks_the_running_instance_for_one_check(
    tmp_path: Path, data_dir: Path, control: ControlStandin
) -> None:
    seen = {"check": "db", "subject": "", "status": "ok", "summary": "fine", "values": {}}
    control.answers[("POST", "/checks/db/run")] = (200, {"observations": [seen]})
    config = loaded(tmp_path, data_dir, free_port())
    assert run_checks(config, ["db"]) == [seen]
    assert [(m, r) for m, r, _ in control.asked] == [("POST", "/checks/db/run")]


def test_run_checks_with_a_refusing_instance_is_a_user_error(
    tmp_path: Path, data_dir: Path, control: ControlStandin
) -> None:
    control.answers[("POST", "/health")] = (404, {"error": "not now"})
    config = loaded(tmp_path, data_dir, free_port())
    with pytest.raises(UserError, match="not now"):
        run_checks(config, None)


def test_run_checks_alone_runs_them_here_and_records_nothing(
    tmp_path: Path, data_dir: Path
) -> None:
    with tcp_listener() as sock:
        config = loaded(tmp_path, data_dir, sock.getsockname()[1])
        [found] = run_checks(config, None)
    assert (found["check"], found["status"]) == ("db", "ok")
    assert {"connect_time", "up"} <= set(found["values"])
    assert not data_dir.exists()
    with pytest.raises(UserError, match="nope"):
        run_checks(config, ["nope"])
