"""aiohttp's default TLS contexts, with certificate authorities read when a handshake needs one.

aiohttp builds its two default TLS contexts when it is imported (``aiohttp.connector``), and
the verifying one reads the system's whole CA bundle: about 140 certificates, 2 MB of resident
memory for the life of the process, whether or not selfreg ever speaks TLS (most checks are
plain http on a private network; Slack is the usual exception). OpenSSL also finds authorities
in a hashed directory (``<hash>.0`` links to each certificate, which ca-certificates keeps next
to the bundle on Debian, Ubuntu and Alpine, with the same certificates), reading one file when a
handshake asks for its issuer and keeping it.

``import_aiohttp`` imports aiohttp with the bundle hidden from OpenSSL (SSL_CERT_FILE set to
the empty ``os.devnull``) and the directory named (SSL_CERT_DIR), then puts the environment
back: only those two contexts look authorities up as needed, and they trust the same ones.
Every other context (a check's ``ca_file``, SMTP) is built as before, and no child process sees
the change. Nothing changes when the directory has no hashed links, when SSL_CERT_FILE or
SSL_CERT_DIR names other authorities than the system's own (the operator's choice stands), or
when aiohttp is already imported. ``bot.cli.main`` calls it first, so every ``selfreg``
command gets it.
"""

from __future__ import annotations

import os
import re
import ssl
import sys

_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR")
_HASHED = re.compile(r"[0-9a-f]{8}\.\d+")


def hashed_directory(path: str | None) -> bool:
    """Whether ``path`` is a directory holding hashed certificate links (``c_rehash``)."""
    if not path:
        return False
    try:
        with os.scandir(path) as entries:
            return any(_HASHED.fullmatch(entry.name) for entry in entries)
    except OSError:
        return False


def system_directory() -> str | None:
    """The system's own CA directory, unless the environment names other authorities
    (SSL_CERT_FILE or SSL_CERT_DIR set to anything but the system's own bundle and directory,
    which some images export)."""
    paths = ssl.get_default_verify_paths()
    own = {"SSL_CERT_FILE": paths.openssl_cafile, "SSL_CERT_DIR": paths.openssl_capath}
    for name, default in own.items():
        value = os.environ.get(name)
        if value is not None and os.path.realpath(value) != os.path.realpath(default):
            return None
    return paths.openssl_capath


def import_aiohttp(capath: str | None = None) -> bool:
    """Import aiohttp so that its verifying context reads authorities from ``capath`` (the
    system's hashed directory by default) as handshakes need them; True when it did."""
    if "aiohttp" in sys.modules:
        return False
    capath = capath or system_directory()
    if not hashed_directory(capath):
        return False
    saved = {name: os.environ.get(name) for name in _VARIABLES}
    os.environ.update(SSL_CERT_FILE=os.devnull, SSL_CERT_DIR=str(capath))
    try:
        import aiohttp.connector  # noqa: F401  (builds the default contexts now)
    finally:
        for name, value in saved.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value
    return True
