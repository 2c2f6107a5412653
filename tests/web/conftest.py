"""Fixtures of the web tests: a real selfreg built in this process with the management API on
(store, engine, policy gate, control socket and web server on 127.0.0.1; no Slack), and a
client that calls ``/api/v1`` with a named token."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.config import load_settings
from bot.runtime import Runtime
from tests.support.servers import free_port

API_CONFIG = """
[models]
anomaly = false
failure_risk = false
forecast = false

[cli]
users = {{ alice = "U0ALICE", bob = "U0BOB" }}

[slack]
permissions = {{ component = ["U0BOB", "U0CAROL"] }}

[[api.tokens]]
name = "reader"
token_env = "TEST_API_READER"
actor = "U0READER"

[[api.tokens]]
name = "alice-bot"
token_env = "TEST_API_ALICE"
actor = "U0ALICE"
roles = ["operate", "approve"]

[[api.tokens]]
name = "carol"
token_env = "TEST_API_CAROL"
actor = "U0CAROL"
roles = ["operate", "approve"]

[[api.tokens]]
name = "unset"
token_env = "TEST_API_NEVER_SET"
actor = "U0UNSET"
roles = ["operate"]

[[checks]]
kind = "tcp"
name = "api"
port = {port}
interval = "1h"
open_after = 1
remediate = ["fix-api"]

[[checks]]
kind = "selfreg"
name = "selfreg"
interval = "1h"

[[components]]
name = "sleeper"
command = ["sleep", "60"]

[[actions]]
name = "fix-api"
kind = "run_command"
command = ["true"]
mode = "approve"
risk = "high"
approvers = ["U0ALICE", "U0BOB", "U0CAROL"]
verify_after = "0s"
"""

TOKENS = {
    "reader": "read-token-0123456789",
    "alice-bot": "alice-token-0123456789",
    "carol": "carol-token-0123456789",
}


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ApiClient:
    """Calls ``/api/v1`` of a running selfreg as one of ``TOKENS`` (or a raw header)."""

    http: aiohttp.ClientSession
    base: str

    async def call(
        self,
        method: str,
        path: str,
        *,
        as_: str | None = None,
        header: str | None = None,
        json: dict[str, Any] | None = None,
    ) -> Answer:
        headers = {}
        if as_ is not None:
            headers["Authorization"] = f"Bearer {TOKENS[as_]}"
        if header is not None:
            headers["Authorization"] = header
        url = f"{self.base}/api/v1{path}"
        async with self.http.request(method, url, headers=headers, json=json) as response:
            return Answer(response.status, await response.json())


async def start_api_selfreg(tmp_path: Path, **more_env: str) -> Runtime:
    """selfreg's services started on ``API_CONFIG`` (no scheduler: the tests drive what
    happens), with the tokens of ``TOKENS`` in its environment."""
    (tmp_path / "selfreg.toml").write_text(API_CONFIG.format(port=free_port()))
    env = {
        "SELFREG_DATA_DIR": str(tmp_path / "data"),
        "SELFREG_WEB_PORT": "0",
        "TEST_API_READER": TOKENS["reader"],
        "TEST_API_ALICE": TOKENS["alice-bot"],
        "TEST_API_CAROL": TOKENS["carol"],
        **more_env,
    }
    runtime = Runtime(load_settings(str(tmp_path / "selfreg.toml"), env), out=io.StringIO())
    await runtime.start_services()
    return runtime


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Runtime]:
    runtime = await start_api_selfreg(tmp_path)
    try:
        yield runtime
    finally:
        await runtime.stop()


@pytest.fixture
async def api(running: Runtime) -> AsyncIterator[ApiClient]:
    async with aiohttp.ClientSession() as http:
        yield ApiClient(http, running.web_url)
