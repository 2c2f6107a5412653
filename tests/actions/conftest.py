"""Fixtures every action test shares: a real action context and real child processes.

A test module that needs supervised components names them in ``COMPONENTS`` (component name
-> argv); the ``ctx`` fixture starts its tiny supervisor with them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.action_context import Children, RealActionContext, action_context


@pytest.fixture
async def ctx(request: pytest.FixtureRequest) -> AsyncIterator[RealActionContext]:
    async with action_context(getattr(request.module, "COMPONENTS", None)) as ctx:
        yield ctx


@pytest.fixture
async def children() -> AsyncIterator[Children]:
    children = Children()
    try:
        yield children
    finally:
        await children.close()
