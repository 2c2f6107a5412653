"""The peer check reads another selfreg's real /status: its line, and each way the link fails."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from pydantic import ValidationError

from bot.config import load_settings
from bot.runtime import Runtime
from checks.base import Observation, Status
from checks.peer import PeerCheck, PeerSpec
from checks.peer_summary import Incompatible, read_document
from tests.checks.test_http_certificates import make_certificate
from tests.runtime.test_build import MINIMAL
from tests.support.check_context import make_context
from tests.support.servers import free_port, serve_app

TOKEN = "peer-secret-token"
TOKEN_ENV = "SELFREG_PEER_MOBILE_TOKEN"


def peer_config(closed_port: int) -> str:
    """The other side: one check that passes, one that fails (a closed port), confirmed at once."""
    return (
        MINIMAL
        + f"""
[[checks]]
kind = "tcp"
name = "api-health"
port = {closed_port}
interval = "1h"
open_after = 1
"""
    )


@contextlib.asynccontextmanager
async def other_side(tmp_path: Path) -> AsyncIterator[Runtime]:
    """A real selfreg runtime with a web token, its checks run once at start."""
    folder = tmp_path / "mobile"
    folder.mkdir()
    (folder / "selfreg.toml").write_text(peer_config(free_port()))
    env = {
        "SELFREG_DATA_DIR": str(folder / "data"),
        "SELFREG_WEB_PORT": "0",
        "SELFREG_WEB_TOKEN": TOKEN,
    }
    config = load_settings(str(folder / "selfreg.toml"), env)
    runtime = Runtime(config, out=open(folder / "out.txt", "w"))  # noqa: SIM115
    await runtime.start()
    try:
        assert runtime.parts is not None
        for _ in range(200):  # both checks' first runs, at most 10 s
            if len(runtime.parts.runner.latest) >= 2:
                break
            await asyncio.sleep(0.05)
        yield runtime
    finally:
        await runtime.stop()


async def look(http: aiohttp.ClientSession, url: str, **keys: Any) -> Observation:
    check = PeerCheck(PeerSpec(name="mobile", url=url, **{"token_env": TOKEN_ENV, **keys}))
    [seen] = await check.run(make_context(http, name="mobile"))
    return seen


async def captured(tmp_path: Path, http: aiohttp.ClientSession) -> dict[str, Any]:
    """A /status document as a real runtime serves it."""
    async with other_side(tmp_path) as runtime:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with http.get(f"{runtime.web_url}/status", headers=headers) as response:
            return dict(await response.json())


def serving(document: Any) -> web.Application:
    async def status(_: web.Request) -> web.Response:
        return web.json_response(document)

    app = web.Application()
    app.router.add_get("/status", status)
    return app


async def test_a_reachable_peer_is_ok_and_summarises_its_checks(
    tmp_path: Path, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    async with other_side(tmp_path) as runtime:
        seen = await look(http, runtime.web_url)
    assert seen.status is Status.OK, seen.summary
    assert seen.summary.startswith("mobile: 1 ok, 1 critical — api-health failing for ")
    assert seen.values["reachable"] == 1.0
    assert seen.values["checks_failing"] == 1.0
    assert abs(seen.values["clock_skew"]) < 5


async def test_a_refused_token_is_critical_and_names_the_variable(
    tmp_path: Path, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, "not-the-token")
    async with other_side(tmp_path) as runtime:
        seen = await look(http, runtime.web_url)
    assert seen.status is Status.CRITICAL
    assert seen.summary == (
        "mobile: token refused (HTTP 401): SELFREG_PEER_MOBILE_TOKEN must hold the peer's "
        "SELFREG_WEB_TOKEN"
    )
    assert TOKEN not in seen.summary


async def test_a_peer_that_does_not_answer_is_critical(
    http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    url = f"http://127.0.0.1:{free_port()}"
    seen = await look(http, url)
    assert seen.status is Status.CRITICAL
    assert seen.summary == f"mobile: cannot reach {url}/status: Connection refused"
    assert seen.values == {"reachable": 0.0}


async def test_a_missing_token_variable_is_unknown(http: aiohttp.ClientSession) -> None:
    seen = await look(http, "http://127.0.0.1:1", token_env="SELFREG_PEER_NOWHERE_TOKEN")
    assert seen.status is Status.UNKNOWN
    assert seen.summary == "mobile: SELFREG_PEER_NOWHERE_TOKEN is not set"


async def test_a_document_of_another_version_is_refused_with_the_reason(
    tmp_path: Path, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    real = await captured(tmp_path, http)
    older = {k: v for k, v in real.items() if k not in ("format", "incidents")}
    newer = {**copy.deepcopy(real), "format": 2}
    async with serve_app(serving(older)) as url:
        seen_older = await look(http, url)
    async with serve_app(serving(newer)) as url:
        seen_newer = await look(http, url)
    assert seen_older.status is Status.CRITICAL
    assert seen_older.summary == "mobile: wrong version: its /status lacks format, incidents"
    assert seen_newer.summary == (
        "mobile: wrong version: its /status is format 2, this selfreg reads 1"
    )


async def test_a_clock_far_off_is_critical_and_said(
    tmp_path: Path, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    real = await captured(tmp_path, http)
    async with serve_app(serving({**real, "at": real["at"] + 600})) as url:
        seen = await look(http, url)
    assert seen.status is Status.CRITICAL
    assert "its clock 10 m" in seen.summary and "ahead of ours" in seen.summary
    assert seen.values["clock_skew"] > 590


async def test_a_tls_error_is_critical_and_says_tls(
    tmp_path: Path, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    cert, key = make_certificate(tmp_path, days=30)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    runner = web.AppRunner(serving({}), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    url = f"https://127.0.0.1:{runner.addresses[0][1]}"
    try:
        seen = await look(http, url)
    finally:
        await runner.cleanup()
    assert seen.status is Status.CRITICAL
    assert seen.summary.startswith(f"mobile: TLS error with {url}/status: ")
    assert seen.summary.endswith("certificate verify failed: self-signed certificate")


async def test_https_to_a_plain_http_peer_says_it_is_not_tls(
    tmp_path: Path, http: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    async with serve_app(serving({})) as url:
        tls_url = url.replace("http://", "https://")
        seen = await look(http, tls_url)
    assert seen.status is Status.CRITICAL
    assert seen.summary == (
        f"mobile: TLS error with {tls_url}/status: the peer did not answer in TLS "
        "(is it serving plain http://?)"
    )


def test_a_document_of_an_unexpected_shape_is_a_wrong_version() -> None:
    shape = {"format": 1, "at": 1.0, "checks": [{"status": "ok"}], "components": [],
             "incidents": []}  # fmt: skip
    broken = {**shape, "checks": [{"confirmed": "critical", "confirmed_at": 0}]}
    assert read_document(shape).counts == {"ok": 1}
    with pytest.raises(Incompatible, match="unexpected shape"):
        read_document(broken)


def test_credentials_in_the_peer_url_are_refused_so_no_summary_shows_them() -> None:
    with pytest.raises(ValidationError, match="the token goes in token_env"):
        PeerSpec(name="mobile", url="http://someone:hunter2@127.0.0.1:8787")
