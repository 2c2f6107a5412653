"""Fixtures of the regulation tests: a real child process that grows its memory or spins a
core on command (``tests.support.regulation_rig``), with its pid file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.action_context import RealActionContext
from tests.support.regulation_rig import grower


@pytest.fixture
async def pidfile(tmp_path: Path) -> Path:
    return tmp_path / "api.pid"


@pytest.fixture
async def grower_ctx(pidfile: Path) -> AsyncIterator[RealActionContext]:
    """An action context whose component ``api`` is one running grower."""
    async with grower(pidfile) as context:
        yield context
