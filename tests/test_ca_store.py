"""aiohttp's verifying context reads certificate authorities from the hashed directory when a
handshake needs one (bot.ca_store), and still verifies: a real TLS server on 127.0.0.1, a
fresh interpreter per client (aiohttp builds its contexts once, at import)."""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import subprocess
import sys
from pathlib import Path

from bot.ca_store import system_directory
from common.python_child import python_child_env
from tests.support.servers import https_server

CLIENT = """
import asyncio, json, os, sys
from bot.ca_store import import_aiohttp
done = import_aiohttp(sys.argv[2])
import aiohttp
from aiohttp import connector
context = connector._SSL_CONTEXT_VERIFIED
before = context.cert_store_stats()["x509"]
async def get():
    try:
        async with aiohttp.ClientSession() as http, http.get(sys.argv[1]) as answer:
            return answer.status
    except aiohttp.ClientConnectorCertificateError:
        return "refused"
status = asyncio.run(get())
print(json.dumps({"done": done, "before": before, "status": status,
    "after": context.cert_store_stats()["x509"], "env": os.environ.get("SSL_CERT_FILE")}))
"""


def openssl(*args: str) -> str:
    done = subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)
    return done.stdout.decode().strip()


def authority(folder: Path, name: str) -> tuple[Path, Path]:
    """A certificate authority's certificate and key."""
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
        "-keyout", str(key), "-out", str(cert),
    )  # fmt: skip
    return cert, key


def served_certificate(folder: Path, ca: tuple[Path, Path]) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by ``ca``."""
    key, csr, cert = folder / "server.key", folder / "server.csr", folder / "server.pem"
    openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
        "-keyout", str(key), "-out", str(csr),
    )  # fmt: skip
    extensions = folder / "san.cnf"
    extensions.write_text("subjectAltName=IP:127.0.0.1\n")
    openssl(
        "x509", "-req", "-in", str(csr), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
        "-CAcreateserial", "-days", "1", "-extfile", str(extensions), "-out", str(cert),
    )  # fmt: skip
    return cert, key


def hashed(folder: Path, certificate: Path) -> Path:
    """A directory holding ``certificate`` under its hashed name, as c_rehash makes it."""
    folder.mkdir()
    name = openssl("x509", "-hash", "-noout", "-in", str(certificate))
    (folder / f"{name}.0").write_bytes(certificate.read_bytes())
    return folder


async def client(url: str, capath: Path) -> dict:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLIENT, url, str(capath),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=python_child_env(),
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    return json.loads(out)


async def test_the_default_context_reads_its_authority_when_a_handshake_needs_it(
    tmp_path: Path,
) -> None:
    ca = authority(tmp_path, "selfreg-test-ca")
    other = authority(tmp_path, "someone-else")
    async with https_server(*served_certificate(tmp_path, ca)) as url:
        trusted = await client(url, hashed(tmp_path / "trusted", ca[0]))
        foreign = await client(url, hashed(tmp_path / "foreign", other[0]))
        empty = tmp_path / "empty"
        empty.mkdir()
        untouched = await client(url, empty)
    # nothing read at import, the one authority read by the handshake, environment put back
    env = os.environ.get("SSL_CERT_FILE")
    assert trusted == {"done": True, "before": 0, "status": 200, "after": 1, "env": env}
    assert foreign["done"] and foreign["status"] == "refused"  # still verifies
    # no hashed links: aiohttp imported as it always was (the system bundle)
    assert untouched["done"] is False and untouched["before"] > 0


def test_authorities_the_environment_names_stand(monkeypatch) -> None:
    paths = ssl.get_default_verify_paths()
    monkeypatch.setenv("SSL_CERT_FILE", paths.openssl_cafile)  # the system's own: as unset
    assert system_directory() == paths.openssl_capath
    monkeypatch.setenv("SSL_CERT_FILE", "/srv/our-private-ca.pem")
    assert system_directory() is None
    monkeypatch.delenv("SSL_CERT_FILE")
    monkeypatch.setenv("SSL_CERT_DIR", "/srv/our-cas")
    assert system_directory() is None
