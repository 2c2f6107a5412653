"""bot.cli.operate, logs and the conventions every command shares, in-process: ``alerts`` and
``history`` read the store (running or not), the acting commands send the local user to the
running instance (a stand-in here) and exit by its answer, ``logs`` tails and follows a
component's file, ``--config``/``--data-dir`` work before the subcommand, usage errors exit
64, and shell completion offers the config's check, component and action names."""

from __future__ import annotations

import getpass
import json
import time
from pathlib import Path

import click
from click.testing import CliRunner

from bot.cli import cli
from bot.cli.logs import follow, json_lines
from bot.records import Incident, IncidentState, Severity
from bot.store import incidents as rows
from bot.store import open_store
from checks.base import Status
from tests.support.control_standin import TCP_CHECK, ControlStandin, invoke, write_config

COMPONENTS = """
[[components]]
name = "api"
command = ["sleep", "60"]

[[components]]
name = "worker"
command = ["sleep", "60"]
instances = 2

[[actions]]
name = "restart-api"
kind = "restart_component"
component = "api"
"""


def config(tmp_path: Path) -> str:
    text = TCP_CHECK.format(name="db", port=1) + TCP_CHECK.format(name="web", port=2)
    return str(write_config(tmp_path, text + COMPONENTS))


def record_incidents(data_dir: Path, *states: IncidentState) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(data_dir / "selfreg.db")
    now = time.time()
    with store.transaction():
        for number, state in enumerate(states):
            rows.save_incident(
                store,
                Incident(
                    fingerprint=f"db|{number}|rule",
                    check="db",
                    subject=str(number),
                    severity=Severity.CRITICAL,
                    state=state,
                    status=Status.CRITICAL,
                    summary=f"down {number}",
                    opened_at=now - 600,
                    last_seen_at=now,
                    resolved_at=now - 60 if state is IncidentState.RESOLVED else None,
                ),
            )
    store.close()


def test_alerts_lists_the_open_incidents_from_the_store_also_as_json(
    tmp_path: Path, data_dir: Path
) -> None:
    assert invoke(data_dir, "alerts", "-c", config(tmp_path)).stdout == "Open incidents: 0\n"
    record_incidents(data_dir, IncidentState.OPEN, IncidentState.RESOLVED)
    result = invoke(data_dir, "alerts", "-c", config(tmp_path))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Open incidents: 1"
    assert lines[1].startswith("  #1  CRITICAL  db 0  open for 10 m")
    found = json.loads(invoke(data_dir, "alerts", "--json", "-c", config(tmp_path)).stdout)
    assert [(i["id"], i["state"]) for i in found["incidents"]] == [(1, "open")]


def test_history_takes_a_count_and_refuses_anything_else_as_a_usage_error(
    tmp_path: Path, data_dir: Path
) -> None:
    record_incidents(data_dir, IncidentState.RESOLVED, IncidentState.OPEN, IncidentState.RESOLVED)
    result = invoke(data_dir, "history", "2", "-c", config(tmp_path))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Last 2 incident(s), newest first:"
    assert lines[1].startswith("  #3  CRITICAL  db 2  resolved, opened ")
    assert "lasted 9 m" in lines[1]
    assert lines[2].startswith("  #2  CRITICAL  db 1  open for ")
    as_json = json.loads(invoke(data_dir, "history", "--json", "-c", config(tmp_path)).stdout)
    assert [i["id"] for i in as_json["incidents"]] == [3, 2, 1]
    wrong = invoke(data_dir, "history", "lots", "-c", config(tmp_path))  # a word: a check name
    assert wrong.exit_code == 64
    assert (
        wrong.stderr.strip()
        == "selfreg: No check named 'lots' has history; checks with history: none yet"
    )


def test_acting_commands_send_the_local_user_and_exit_by_the_answer(
    tmp_path: Path, data_dir: Path, control: ControlStandin
) -> None:
    control.answers[("POST", "/incidents/4/ack")] = (200, {"ok": True, "text": "acked"})
    control.answers[("POST", "/silences")] = (403, {"error": "not in [cli] users"})
    control.answers[("POST", "/actions/restart-api/run")] = (200, {"ok": False, "text": "waits"})
    control.answers[("POST", "/components/api/stop")] = (404, {"error": "no component"})
    cfg = config(tmp_path)
    assert invoke(data_dir, "ack", "4", "-c", cfg).exit_code == 0
    refused = invoke(data_dir, "silence", "db", "1h", "--reason", "x", "-c", cfg)
    assert (refused.exit_code, refused.stderr) == (1, "selfreg: not in [cli] users\n")
    assert invoke(data_dir, "run", "restart-api", "3", "-c", cfg).exit_code == 1
    assert invoke(data_dir, "component", "stop", "api", "-c", cfg).exit_code == 2
    me = getpass.getuser()
    assert control.asked == [
        ("POST", "/incidents/4/ack", {"user": me}),
        (
            "POST",
            "/silences",
            {"user": me, "matcher": "db", "duration": "1h", "reason": "x", "from": None},
        ),
        ("POST", "/actions/restart-api/run", {"user": me, "incident": 3}),
        ("POST", "/components/api/stop", {"user": me}),
    ]


def test_acting_with_nothing_running_exits_2(tmp_path: Path, data_dir: Path) -> None:
    result = invoke(data_dir, "ack", "4", "-c", config(tmp_path))
    assert result.exit_code == 2
    assert "`ack` is carried out by the running instance" in result.stderr


def test_global_config_and_data_dir_work_before_the_subcommand(
    tmp_path: Path, data_dir: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    record_incidents(elsewhere, IncidentState.OPEN)
    runner = CliRunner(env={"SELFREG_DATA_DIR": str(data_dir)})
    args = ["-c", config(tmp_path), "--data-dir", str(elsewhere), "alerts", "--json"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["incidents"]) == 1
    after = runner.invoke(cli, ["alerts", "--data-dir", str(elsewhere), "-c", config(tmp_path)])
    assert after.stdout.startswith("Open incidents: 1")


def test_usage_errors_exit_64_apart_from_a_critical_2(tmp_path: Path, data_dir: Path) -> None:
    assert invoke(data_dir, "--no-such-option").exit_code == 64
    assert invoke(data_dir, "no-such-command").exit_code == 64
    assert invoke(data_dir, "ack", "not-a-number", "-c", config(tmp_path)).exit_code == 64
    assert invoke(data_dir, "check", "run").exit_code == 64  # NAME missing
    for words in (["component", "restart", "nope"], ["run", "nope"]):
        wrong = invoke(data_dir, *words, "-c", config(tmp_path))
        assert wrong.exit_code == 64 and "configured" in wrong.stderr, "before asking anyone"
    critical = invoke(data_dir, "check", "run", "db", "-c", config(tmp_path))
    assert critical.exit_code == 2, "port 1 refuses: critical, not a usage error"


def complete(tmp_path: Path, words: str) -> list[str]:
    env = {"_SELFREG_COMPLETE": "bash_complete", "COMP_WORDS": words}
    env["COMP_CWORD"] = str(len(words.split()) - (0 if words.endswith(" ") else 1))
    result = CliRunner(env=env).invoke(cli, [], prog_name="selfreg")
    return [line.split(",", 1)[1] for line in result.stdout.splitlines()]


def test_shell_completion_offers_names_from_the_config(tmp_path: Path) -> None:
    cfg = config(tmp_path)
    assert complete(tmp_path, f"selfreg -c {cfg} check run ") == ["db", "web"]
    assert complete(tmp_path, f"selfreg -c {cfg} component restart ") == ["api", "worker"]
    assert complete(tmp_path, f"selfreg -c {cfg} run r") == ["restart-api"]
    assert complete(tmp_path, f"selfreg -c {cfg} logs w") == ["worker"]
    assert "alerts" in complete(tmp_path, "selfreg al")


def test_logs_prints_the_last_lines_and_names_instances(tmp_path: Path, data_dir: Path) -> None:
    logs = data_dir / "logs"
    logs.mkdir(parents=True)
    (logs / "api.log").write_text("".join(f"line {n}\n" for n in range(100)))
    result = invoke(data_dir, "logs", "api", "-n", "3", "-c", config(tmp_path))
    assert (result.exit_code, result.stdout) == (0, "line 97\nline 98\nline 99\n")
    several = invoke(data_dir, "logs", "worker", "-c", config(tmp_path))
    assert several.exit_code == 64
    assert "name one: worker-0, worker-1" in several.stderr
    assert invoke(data_dir, "logs", "worker-1", "-c", config(tmp_path)).stdout.startswith(
        "no output yet"
    )
    assert invoke(data_dir, "logs", "nope", "-c", config(tmp_path)).exit_code == 64
    as_json = invoke(data_dir, "logs", "api", "-n", "2", "--json", "-c", config(tmp_path))
    assert [json.loads(line) for line in as_json.stdout.splitlines()] == [
        {"component": "api", "line": "line 98"},
        {"component": "api", "line": "line 99"},
    ]


def test_logs_json_prints_a_line_once_it_is_complete() -> None:
    write = json_lines("api")
    with CliRunner().isolation() as (out, _, _):
        write("first\nsec")
        write("ond\n")
        printed = out.getvalue().decode().splitlines()
    assert [json.loads(line)["line"] for line in printed] == ["first", "second"]


def test_follow_prints_what_is_appended_and_reads_on_after_a_truncation(tmp_path: Path) -> None:
    path = tmp_path / "api.log"
    path.write_text("old\n")
    written: list[str] = []
    steps = iter(
        [
            lambda: path.open("a").write("new 1\n"),
            lambda: path.write_text("rotated\n"),  # copy-then-truncate, then a short write
            lambda: None,
        ]
    )

    def until() -> bool:
        step = next(steps, None)
        if step is None:
            return True
        step()
        return False

    follow(path, 4, written.append, until=until, every=0)
    assert "".join(written) == "new 1\nrotated\n"


NOT_DATA = {
    "selfreg start",
    "selfreg stop",
    "selfreg restart",
    "selfreg logs",  # a component's own output, as it wrote it
    "selfreg config docs",  # Markdown
    "selfreg config schema",  # JSON already
}


def leaves(group: click.Group, prefix: str = "selfreg") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found.extend(leaves(command, f"{prefix} {name}"))
            if not command.invoke_without_command:
                continue
        found.append((f"{prefix} {name}", command))
    return found


def test_every_command_that_prints_data_takes_json() -> None:
    missing = [
        path
        for path, command in leaves(cli)
        if path not in NOT_DATA and not any("--json" in p.opts for p in command.params)
    ]
    assert missing == []


def test_json_of_config_check_backup_list_and_audit_export(tmp_path: Path, data_dir: Path) -> None:
    cfg = config(tmp_path)
    checked = json.loads(invoke(data_dir, "config", "check", "--json", cfg).stdout)
    assert checked == {
        "valid": True,
        "files": [cfg],
        "counts": {"checks": 2, "components": 2, "actions": 1},
    }
    assert json.loads(invoke(data_dir, "backup", "list", "--json", "-c", cfg).stdout) == []
    record_incidents(data_dir, IncidentState.OPEN)
    assert json.loads(invoke(data_dir, "audit", "export", "--json", "-c", cfg).stdout) == []
