"""bot.cli.tables: aligned columns, colour without breaking alignment, and the status screen."""

from __future__ import annotations

import re
from typing import Any

from bot.cli import tables
from bot.cli.terminal import paint

NOW = 1_700_000_100.0
ANSI = re.compile(r"\x1b\[[0-9;]*m")

API = {
    "name": "api",
    "status": "running",
    "pid": 42,
    "started_at": NOW - 100,
    "restarts": 1,
    "last_exit_code": None,
}
WORKER = {
    "name": "worker",
    "status": "exited",
    "instances": [{"pid": None}, {"pid": None}],
    "started_at": NOW - 500,
    "restarts": 3,
    "last_exit_code": 1,
}


def check(name: str, status: str, subject: str = "", **fields: Any) -> dict[str, Any]:
    return {
        "check": name,
        "subject": subject,
        "status": status,
        "confirmed": status,
        "confirmed_at": NOW - 60,
        "at": NOW - 2,
        "summary": fields.pop("summary", f"{name} is {status}"),
        **fields,
    }


def test_table_pads_every_column_to_its_widest_cell_and_trims_line_ends() -> None:
    text = tables.table(["A", "LONGER"], [("x", 1), ("yyyy", 22)])
    assert text.split("\n") == ["A     LONGER", "x     1", "yyyy  22"]
    assert tables.table(["ONLY", "HEADERS"], []) == "ONLY  HEADERS"


def test_styled_table_colours_only_the_state_words_and_keeps_the_columns_aligned() -> None:
    headers = ["STATE", "NAME"]
    rows = [("running", "api"), ("crash-loop", "w"), ("mystery", "x")]
    plain = tables.table(headers, rows)
    painted = tables.styled_table(headers, rows, paint_columns=(0,))
    assert ANSI.sub("", painted) == plain, "colour codes are all that is added"
    lines = painted.split("\n")
    assert lines[1].startswith(paint("running", True))
    assert lines[2].startswith(paint("crash-loop", True))
    assert lines[3] == plain.split("\n")[3], "a word without a colour stays as it is"
    assert tables.styled_table(headers, rows) == plain


def test_observations_table_marks_the_state_and_labels_the_subject() -> None:
    text = tables.observations_table(
        [
            {"status": "critical", "check": "db", "subject": "", "summary": "cannot connect"},
            {"status": "ok", "check": "disk", "subject": "/data", "summary": "12% used"},
        ]
    )
    header, first, second = text.split("\n")
    assert header.split() == ["STATUS", "CHECK", "DETAIL"]
    assert first.split(None, 2) == ["CRIT", "db", "cannot connect"]
    assert second.startswith("OK      disk /data  12% used")


def test_backups_table_says_how_to_make_one_when_there_is_none() -> None:
    assert "`selfreg backup` makes one" in tables.backups_table("/srv/backups", [])
    text = tables.backups_table(
        "/srv/backups", [("b-2.tar.gz", NOW, 2048), ("b-1.tar.gz", NOW - 86400, 10)]
    )
    lines = text.split("\n")
    assert lines[0] == "2 backups in /srv/backups, newest first:"
    assert lines[1].split() == ["NAME", "TIME", "SIZE"]
    assert lines[2].startswith("b-2.tar.gz") and lines[2].endswith("2.0 kB")
    assert lines[3].startswith("b-1.tar.gz")


def test_components_table_shows_uptime_only_while_running_and_dashes_for_unknowns() -> None:
    text = tables.components_table([API, WORKER], NOW, colour=False)
    header, api, worker = text.split("\n")
    assert header.split() == ["COMPONENT", "STATUS", "PID", "UPTIME", "RESTARTS", "LAST", "EXIT"]
    assert api.split() == ["api", "running", "42", "1m40s", "1", "-"]
    assert worker.split() == ["worker", "exited", "-", "-", "3", "1"]
    coloured = tables.components_table([API], NOW, colour=True)
    assert paint("running", True) in coloured


def test_components_table_lists_the_pid_of_every_instance() -> None:
    scaled = {**API, "instances": [{"pid": 41}, {"pid": None}, {"pid": 43}]}
    row = tables.components_table([scaled], NOW, colour=False).split("\n")[1]
    assert "41, 43" in row


def test_startup_summary_is_the_components_then_one_line_of_checks() -> None:
    failing = check("api", "critical")
    status = {"components": [API], "checks": [check("db", "ok"), failing], "failing": [failing]}
    lines = tables.startup_summary(status, NOW).split("\n")
    assert lines[0].startswith("COMPONENT")
    assert lines[-1] == "checks: 1 ok, 1 critical · failing: api"
    alone = tables.startup_summary({"checks": [check("db", "ok")], "failing": []}, NOW)
    assert alone == "checks: 1 ok"


def test_status_screen_orders_checks_worst_first_and_lists_incidents_and_approvals() -> None:
    checks = [
        check("db", "ok", summary="fine"),
        check("disk", "warning", subject="/data", summary="91% used"),
        check("api", "critical", summary="HTTP 500"),
    ]
    status = {
        "running": True,
        "selfreg": {"pid": 99, "started_at": NOW - 3600, "version": "1.2"},
        "components": [API],
        "checks": checks,
        "failing": checks[1:],
        "incidents": [
            {
                "id": 7,
                "severity": "critical",
                "check": "api",
                "subject": "",
                "state": "open",
                "opened_at": NOW - 60,
                "summary": "HTTP 500",
            }
        ],
        "pending_approvals": [
            {"id": 3, "incident_id": 7, "action": "restart-api", "risk": "low", "expires_at": NOW}
        ],
        "last_backup": {"at": NOW - 3600, "path": "/srv/backups/b-1.tar.gz"},
        "heartbeat": {"enabled": True, "sent": 4, "failed": 1, "last_error": "timeout"},
    }
    text = tables.status_screen(status, NOW)
    assert text.startswith("selfreg status from the running instance: pid 99")
    order = [line.split()[1] for line in text.split("\n") if re.match(r"(CRIT|WARN|OK) ", line)]
    assert order == ["api", "disk", "db"]
    assert "Checks: 1 ok, 1 warning, 1 critical" in text
    assert "  #7  CRITICAL  api  open for" in text
    assert "`selfreg approve 3`" in text
    assert "/srv/backups/b-1.tar.gz" in text
    assert "Heartbeat: 4 sent, 1 failed (last: timeout)." in text
    assert text.endswith("2 failing: disk /data, api"), "failing keeps the document's order"


def test_status_screen_of_an_empty_store_says_no_check_has_run() -> None:
    text = tables.status_screen({"running": False, "checks": [], "failing": []}, NOW)
    assert text.startswith("selfreg status from the store (selfreg is not running)")
    assert "No check has run yet." in text
    assert "Open incidents: 0" in text and "Pending approvals: 0" in text
    assert "Last backup" not in text and "Heartbeat" not in text
    assert text.endswith("0 failing")


def test_status_screen_in_colour_paints_the_state_marks() -> None:
    status = {"running": False, "checks": [check("api", "critical")], "failing": []}
    text = tables.status_screen(status, NOW, colour=True)
    assert paint("CRIT", True) in text
    assert ANSI.sub("", text) == tables.status_screen(status, NOW)
