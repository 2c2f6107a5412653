"""``common``: shared by every part, so it imports nothing of the project; its two duration
styles, each as the sentences and summaries that use it assert."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from common.units import format_duration, parse_duration

ROOT = Path(__file__).resolve().parents[2]


def test_common_imports_nothing_of_the_project() -> None:
    project = {"bot", "checks", "actions", "models", "common", "tests", "bench"}
    for path in (ROOT / "common").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if not node.level else ["common"]
            else:
                continue
            assert not {n.split(".")[0] for n in names} & project, f"{path} imports {names}"


@pytest.mark.parametrize(
    ("seconds", "config", "sentence"),
    [
        (0, "0s", "0 s"),
        (0.25, "250ms", "0 s"),
        (0.9996, "1s", "1 s"),  # rounds to a whole second, not "1000ms"
        (90, "1m30s", "1 m 30 s"),
        (252, "4m12s", "4 m 12 s"),
        (3605, "1h5s", "1 h 5 s"),
        (7500, "2h5m", "2 h 5 m"),
        (273_600, "3d4h", "3 d 4 h"),
        (273_661, "3d4h1m1s", "3 d 4 h"),
    ],
)
def test_the_two_duration_styles(seconds: float, config: str, sentence: str) -> None:
    assert format_duration(seconds) == config
    assert format_duration(seconds, style="sentence") == sentence


def test_a_sentence_never_says_a_negative_duration() -> None:
    assert format_duration(-5.0, style="sentence") == "0 s"


def test_the_config_style_reads_back() -> None:
    for seconds in (0.25, 1.0, 90.0, 3605.0, 273_661.0):
        assert parse_duration(format_duration(seconds)) == seconds
