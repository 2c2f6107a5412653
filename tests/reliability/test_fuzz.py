"""Fuzzing with few cases per target (``bench/fuzz_inputs.py`` runs many): no crash, every
bad input answered, nothing recorded by a refused one."""

from __future__ import annotations

from pathlib import Path

from tests.support.click_attacks import Rig
from tests.support.fuzz_inputs import (
    Doors,
    fuzz_block_actions,
    fuzz_control,
    fuzz_slash,
    fuzz_view_submission,
)
from tests.support.fuzz_local import fuzz_config, fuzz_http, fuzz_logfile
from tests.support.slack_standin import SlackEmulator

CASES = 20


def test_a_running_selfreg_answers_fuzzed_commands_clicks_forms_and_control_requests(
    emu: SlackEmulator, tmp_path: Path
) -> None:
    rig = Rig(emu, tmp_path)
    try:
        doors = Doors(rig)
        results = [
            target(doors, CASES)
            for target in (fuzz_slash, fuzz_block_actions, fuzz_view_submission, fuzz_control)
        ]
    finally:
        rig.close()
    for figures in results:
        assert figures.tried >= CASES // 2, figures.target
        assert figures.crashes == [], (figures.target, figures.crashes[:3])
        assert figures.recorded_by_refused == 0, figures.target


def test_config_files_load_or_are_refused_naming_the_file() -> None:
    figures = fuzz_config(CASES * 2)
    assert figures.crashes == [] and figures.refused > 0


def test_the_logfile_check_reads_invalid_utf8_nul_bytes_and_long_lines() -> None:
    figures = fuzz_logfile(CASES, long_line=1_000_000)
    assert figures.crashes == []


def test_the_http_check_reports_huge_slow_and_malformed_answers() -> None:
    figures = fuzz_http(CASES, huge=2_000_000, slow=0.3)
    assert figures.crashes == [] and figures.refused > 0
