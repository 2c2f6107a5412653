"""The http check reads the days left on an https certificate, from a real TLS server."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import aiohttp
from aiohttp import web

from checks.base import Status
from checks.http import HttpCheck, HttpSpec
from tests.support.check_context import make_context


async def ok(_: web.Request) -> web.Response:
    return web.Response(text="ok")


def make_certificate(folder: Path, days: int) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 that expires in ``days`` days."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            str(days),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


async def test_a_certificate_close_to_expiry_is_critical(tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path, days=5)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    app = web.Application()
    app.router.add_get("/", ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
    port = runner.addresses[0][1]
    try:
        check = HttpCheck(
            HttpSpec(kind="http", name="tls", url=f"https://127.0.0.1:{port}/", ca_file=str(cert))
        )
        async with aiohttp.ClientSession() as http:
            [seen] = await check.run(make_context(http))
    finally:
        await runner.cleanup()
    assert 4 < seen.values["cert_days"] <= 5
    assert seen.status is Status.CRITICAL
    assert "certificate expires in 5 days" in seen.summary


async def test_an_untrusted_certificate_is_critical_and_says_why(tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path, days=90)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    app = web.Application()
    app.router.add_get("/", ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
    port = runner.addresses[0][1]
    try:
        check = HttpCheck(HttpSpec(kind="http", name="tls", url=f"https://127.0.0.1:{port}/"))
        async with aiohttp.ClientSession() as http:
            [seen] = await check.run(make_context(http))
    finally:
        await runner.cleanup()
    assert seen.status is Status.CRITICAL
    assert seen.summary.startswith(f"TLS certificate of https://127.0.0.1:{port}/ is not trusted: ")
    assert "self-signed certificate" in seen.summary
