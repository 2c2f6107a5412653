"""bot.cli.decide in-process: ``approve``, ``deny`` and ``reload`` are carried out by the
running instance (a control-socket stand-in here) and refused when none runs."""

from __future__ import annotations

import getpass
from pathlib import Path

from tests.support.control_standin import TCP_CHECK, ControlStandin, invoke, write_config


def config(tmp_path: Path) -> str:
    return str(write_config(tmp_path, TCP_CHECK.format(name="db", port=1)))


def test_approve_sends_the_local_user_and_exits_0_when_allowed(
    tmp_path: Path, data_dir: Path, control: ControlStandin
) -> None:
    control.answers[("POST", "/proposals/7/approve")] = (
        200,
        {"ok": True, "text": "approved: restart-api runs now"},
    )
    result = invoke(data_dir, "approve", "7", "--config", config(tmp_path))
    assert (result.exit_code, result.stdout) == (0, "approved: restart-api runs now\n")
    assert control.asked == [("POST", "/proposals/7/approve", {"user": getpass.getuser()})]


def test_deny_sends_the_reason_and_exits_1_when_the_policy_refuses(
    tmp_path: Path, data_dir: Path, control: ControlStandin
) -> None:
    control.answers[("POST", "/proposals/7/deny")] = (
        200,
        {"ok": False, "text": "proposal 7 was already decided"},
    )
    result = invoke(data_dir, "deny", "7", "--reason", "not now", "--config", config(tmp_path))
    assert (result.exit_code, result.stdout) == (1, "proposal 7 was already decided\n")
    assert control.asked[0][2] == {"user": getpass.getuser(), "reason": "not now"}


def test_a_decision_with_nothing_running_exits_2(tmp_path: Path, data_dir: Path) -> None:
    result = invoke(data_dir, "approve", "7", "--config", config(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"selfreg: no selfreg is running with the data folder {data_dir}; `approve` is carried "
        "out by the running instance: run it from the folder selfreg was started in, or give "
        "the same --data-dir / -c"
    )


def test_reload_prints_the_outcome_and_exits_by_it(
    tmp_path: Path, data_dir: Path, control: ControlStandin
) -> None:
    control.answers[("POST", "/reload")] = (200, {"applied": True, "ok": True, "text": "~ db"})
    result = invoke(data_dir, "reload", "--config", config(tmp_path))
    assert (result.exit_code, result.stdout) == (0, "~ db\n")
    control.answers[("POST", "/reload")] = (200, {"applied": False, "ok": False, "text": "bad"})
    assert invoke(data_dir, "reload", "--config", config(tmp_path)).exit_code == 2
    assert [body for _, _, body in control.asked] == [{"user": getpass.getuser()}] * 2


def test_reload_with_nothing_running_says_the_next_start_reads_it(
    tmp_path: Path, data_dir: Path
) -> None:
    result = invoke(data_dir, "reload", "--config", config(tmp_path))
    assert result.exit_code == 2
    assert "the next start reads the config" in result.stderr


def test_a_proposal_is_named_as_the_console_shows_it_p7_or_7(
    tmp_path: Path, data_dir: Path, control: ControlStandin
) -> None:
    control.answers[("POST", "/proposals/7/approve")] = (200, {"ok": True, "text": "ok"})
    for written in ("P7", "p7", "#7", "7"):
        assert invoke(data_dir, "approve", written, "--config", config(tmp_path)).exit_code == 0
    wrong = invoke(data_dir, "approve", "Q7", "--config", config(tmp_path))
    assert wrong.exit_code == 64 and "'Q7' is not an id" in wrong.stderr
    assert [route for _, route, _ in control.asked] == ["/proposals/7/approve"] * 4
