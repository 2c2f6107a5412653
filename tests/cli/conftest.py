"""Fixtures of the CLI tests: a data folder and a control-socket stand-in on it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.control_standin import ControlStandin


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def control(data_dir: Path) -> Iterator[ControlStandin]:
    """A started control stand-in on ``<data_dir>/selfreg.sock``."""
    standin = ControlStandin(data_dir / "selfreg.sock")
    standin.start()
    yield standin
    standin.stop()
