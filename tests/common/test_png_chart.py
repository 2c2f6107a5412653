"""common.png_chart: the PNG an incident's thread gets, drawn without a plotting library.
Checked by decoding it: its size, that it is not blank, and the critical threshold's dashed
line on the row the layout puts it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from common.png_chart import COLORS, ChartError, layout, read_png, render

SPEC = {
    "width": 640,
    "height": 240,
    "start": 0.0,
    "end": 1200.0,
    "points": [(t * 10.0, 40.0 + (t % 20)) for t in range(100)],
    "limits": [("warning", 70.0), ("critical", 90.0)],
    "anomalies": [(500.0, 55.0)],
    "span": [600.0, 900.0],
    "forecast": [(990.0, 50.0, 5.0), (1100.0, 52.0, 7.0), (1200.0, 54.0, 9.0)],
}


def test_the_chart_has_its_size_is_not_blank_and_draws_the_threshold_on_its_row() -> None:
    picture = read_png(render(SPEC))
    assert (picture.width, picture.height) == (640, 240)
    colours = {picture.get(x, y) for x in range(0, 640, 4) for y in range(0, 240, 4)}
    assert len(colours) >= 6, "background, frame, plot, span, line, forecast at least"
    at = layout(SPEC)
    row = round(at.y(90.0))
    on_row = [picture.get(x, row) for x in range(at.left, at.right)]
    assert on_row.count(COLORS["critical"]) >= (at.right - at.left) // 2, "a dashed red line"
    assert COLORS["critical"] not in [picture.get(x, row + 3) for x in range(at.left, at.right)]
    warn_row = round(at.y(70.0))
    assert COLORS["warning"] in [picture.get(x, warn_row) for x in range(at.left, at.right)]
    first = (round(at.x(0.0)), round(at.y(40.0)))
    assert picture.get(*first) == COLORS["value"], "the first sample where it belongs"
    assert picture.get(round(at.x(750.0)), at.top + 2) == COLORS["span"], "the incident shaded"


def test_a_chart_without_samples_says_why() -> None:
    with pytest.raises(ChartError, match="no samples"):
        render({**SPEC, "points": []})


def test_the_program_reads_json_and_writes_png_or_exits_2_with_the_reason() -> None:
    drawn = subprocess.run(
        [sys.executable, "-m", "common.png_chart"], input=json.dumps(SPEC).encode(),
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert drawn.returncode == 0 and drawn.stdout[:8] == b"\x89PNG\r\n\x1a\n"
    empty = subprocess.run(
        [sys.executable, "-m", "common.png_chart"], input=b'{"start": 0, "end": 1}',
        capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert empty.returncode == 2 and b"no samples in the chart's range" in empty.stderr
