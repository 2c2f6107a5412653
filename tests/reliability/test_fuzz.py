"""Fuzzing with few cases per target (``bench/fuzz_inputs.py`` runs many): no crash, every
bad input answered, nothing recorded by a refused one."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.click_attacks import Rig
from tests.support.fuzz_inputs import (
    CLI_USERS,
    FUZZER,
    Doors,
    control_request,
    fuzz_block_actions,
    fuzz_control,
    fuzz_slash,
    fuzz_view_submission,
)
from tests.support.fuzz_local import fuzz_config, fuzz_http, fuzz_logfile
from tests.support.slack_standin import SlackEmulator

CASES = 20


@pytest.fixture
def doors(emu: SlackEmulator, tmp_path: Path) -> Iterator[Doors]:
    """A running selfreg with its incident and proposals, ``fuzzer`` mapped to Mallory."""
    rig = Rig(emu, tmp_path, CLI_USERS)
    try:
        yield Doors(rig)
    finally:
        rig.close()


def test_a_running_selfreg_answers_fuzzed_commands_clicks_forms_and_control_requests(
    doors: Doors,
) -> None:
    results = [
        target(doors, CASES)
        for target in (fuzz_slash, fuzz_block_actions, fuzz_view_submission, fuzz_control)
    ]
    for figures in results:
        assert figures.tried >= CASES // 2, figures.target
        assert figures.crashes == [], (figures.target, figures.crashes[:3])
        assert figures.recorded_by_refused == 0, figures.target


# What the people routes' fuzz found answered with a 500 and a traceback (a run's
# ``incident`` read with ``int()``, a silence's ``from`` handed on as it came) or recorded
# a proposal for an incident that does not exist: each must be a 400 or a 404 now.
BAD_PEOPLE_REQUESTS = [
    ("/actions/fix/run", {"incident": "x"}, 400),
    ("/actions/fix/run", {"incident": [1]}, 400),
    ("/actions/fix/run", {"incident": 1.5}, 400),
    ("/actions/fix/run", {"incident": True}, 400),
    ("/actions/fix/run", {"incident": 2**70}, 400),
    ("/actions/fix/run", {"incident": 999}, 404),
    ("/silences", {"matcher": "check=api-port", "duration": "1h", "from": [1]}, 400),
    ("/silences", {"matcher": "check=api-port", "duration": "1h", "from": {}}, 400),
]


def test_bad_people_requests_on_the_control_socket_are_refused_before_anything_is_recorded(
    doors: Doors,
) -> None:
    socket_path = doors.rig.tmp / "data" / "selfreg.sock"
    for route, body, status in BAD_PEOPLE_REQUESTS:
        before = doors.recorded()
        payload = json.dumps({"user": FUZZER, **body}).encode()
        answer = asyncio.run(control_request(socket_path, "POST", route, payload))
        assert (answer.status, doors.new_errors()) == (status, []), (route, body)
        assert doors.recorded() == before, (route, body)


def test_config_files_load_or_are_refused_naming_the_file() -> None:
    figures = fuzz_config(CASES * 2)
    assert figures.crashes == [] and figures.refused > 0


def test_the_logfile_check_reads_invalid_utf8_nul_bytes_and_long_lines() -> None:
    figures = fuzz_logfile(CASES, long_line=1_000_000)
    assert figures.crashes == []


def test_the_http_check_reports_huge_slow_and_malformed_answers() -> None:
    figures = fuzz_http(CASES, huge=2_000_000, slow=0.3)
    assert figures.crashes == [] and figures.refused > 0
