"""The http check reads the days left on an https certificate, from a real TLS server."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path

import aiohttp
from aiohttp import web

from checks.base import Observation, Status
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


async def observe_tls(tmp_path: Path, days: int, *, trust: bool) -> tuple[int, Observation]:
    """Serve https on 127.0.0.1 with a fresh certificate; run the check against it once."""
    cert, key = make_certificate(tmp_path, days=days)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    app = web.Application()
    app.router.add_get("/", ok)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
    port = runner.addresses[0][1]
    try:
        url = f"https://127.0.0.1:{port}/"
        spec = HttpSpec(kind="http", name="tls", url=url, ca_file=str(cert) if trust else None)
        async with aiohttp.ClientSession() as http:
            [seen] = await HttpCheck(spec).run(make_context(http))
    finally:
        await runner.cleanup()
    return port, seen


async def test_a_certificate_close_to_expiry_is_critical(tmp_path: Path) -> None:
    _, seen = await observe_tls(tmp_path, days=5, trust=True)
    assert 4 < seen.values["cert_days"] <= 5
    assert seen.status is Status.CRITICAL
    assert "certificate expires in 5 days" in seen.summary


async def test_an_untrusted_certificate_is_critical_and_says_why(tmp_path: Path) -> None:
    port, seen = await observe_tls(tmp_path, days=90, trust=False)
    assert seen.status is Status.CRITICAL
    assert seen.summary.startswith(f"TLS certificate of https://127.0.0.1:{port}/ is not trusted: ")
    assert "self-signed certificate" in seen.summary
