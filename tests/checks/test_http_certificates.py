"""The http check reads the days left on an https certificate, from a real TLS server."""

from __future__ import annotations

import subprocess
from pathlib import Path

import aiohttp

from checks.base import Observation, Status
from checks.http import HttpCheck, HttpSpec
from tests.support.check_context import make_context
from tests.support.servers import https_server


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
    async with https_server(cert, key) as base:
        url = f"{base}/"
        spec = HttpSpec(kind="http", name="tls", url=url, ca_file=str(cert) if trust else None)
        async with aiohttp.ClientSession() as http:
            [seen] = await HttpCheck(spec).run(make_context(http))
    port = int(base.rpartition(":")[2])
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
