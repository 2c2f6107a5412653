"""Save and load a detector's learned state: signed, versioned, and never a pickle.

A state file is::

    b"SELFREG-MODEL 1\\n" | header length (4 bytes, big-endian) | header (JSON) | payload (.npz)
    | HMAC-SHA256 (32 bytes) over everything before it

The payload is a numpy ``.npz`` of plain numeric arrays, read with ``allow_pickle=False``; the
header carries the scikit-learn and numpy versions, the feature names and the detector's own
JSON metadata. The HMAC key is a per-installation secret (``load_or_create_key``), so a file
selfreg did not write, or one changed since, is refused before any of it is parsed. A file
written by another scikit-learn version, or for other features, is refused too: the caller
starts cold rather than score with a model it cannot vouch for.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import importlib.metadata
import io
import json
import os
import secrets
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.base import ModelError, StateMismatch

MAGIC = b"SELFREG-MODEL 1\n"
_MAC_SIZE = hashlib.sha256().digest_size
_KEY_SIZE = 32


class UntrustedState(ModelError, ValueError):
    """A state file selfreg did not write (or that changed since): bad magic, size or HMAC."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"refusing model state {path}: {reason}")


def load_or_create_key(path: Path) -> bytes:
    """The installation's HMAC key: read from ``path``, or created there (mode 0600)."""
    path = Path(path)
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(_KEY_SIZE)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
        return key
    if len(key) < _KEY_SIZE:
        raise UntrustedState(path, f"key file holds {len(key)} bytes, expected {_KEY_SIZE}")
    return key


@functools.lru_cache(maxsize=1)
def _installed_sklearn() -> str:
    return importlib.metadata.version("scikit-learn")


def sklearn_version() -> str:
    """The installed scikit-learn's version, read from its package metadata: importing
    scikit-learn would cost about 90 MB of RSS in a process that only scores."""
    return _installed_sklearn()


def _versions() -> dict[str, str]:
    return {"sklearn": sklearn_version(), "numpy": np.__version__}


def save(
    path: Path,
    arrays: Mapping[str, np.ndarray],
    meta: Mapping[str, Any],
    *,
    key: bytes,
    feature_names: Sequence[str],
) -> None:
    """Write a signed state file atomically (a temporary file, then a rename), mode 0600.

    Streamed: the payload goes to the file as numpy writes it, signed on the way, so saving
    holds no copy of the file in memory (with every series of a 70-check selfreg, five copies
    of 2 to 3 MB each were built and freed at every save)."""
    path = Path(path)
    header = json.dumps(
        {**_versions(), "feature_names": list(feature_names), "meta": meta},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    tmp = path.with_name(path.name + ".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        signed = _SignedWriter(f, hmac.new(key, digestmod=hashlib.sha256))
        signed.write(MAGIC + struct.pack(">I", len(header)) + header)
        np.savez(signed, **{name: np.asarray(a) for name, a in arrays.items()})
        f.write(signed.mac.digest())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class _SignedWriter(io.RawIOBase):
    """A write-only, unseekable file that feeds the HMAC everything written through it
    (zipfile then writes the payload in one pass, never going back)."""

    def __init__(self, file: io.BufferedWriter, mac: hmac.HMAC) -> None:
        super().__init__()
        self.file, self.mac = file, mac

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.mac.update(data)
        return self.file.write(data)


def load(
    path: Path, *, key: bytes, feature_names: Sequence[str]
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read a state file written by ``save`` with the same key; returns (arrays, meta).

    Raises ``UntrustedState`` when the file is not selfreg's (checked before parsing anything)
    and ``StateMismatch`` when it was written for another library version or feature set.
    """
    path = Path(path)
    blob = path.read_bytes()
    if len(blob) < len(MAGIC) + 4 + _MAC_SIZE or not blob.startswith(MAGIC):
        raise UntrustedState(path, "not a selfreg model file")
    body, mac = blob[:-_MAC_SIZE], blob[-_MAC_SIZE:]
    if not hmac.compare_digest(mac, hmac.new(key, body, hashlib.sha256).digest()):
        raise UntrustedState(path, "signature does not match this installation's key")
    (size,) = struct.unpack(">I", body[len(MAGIC) : len(MAGIC) + 4])
    start = len(MAGIC) + 4
    header = json.loads(body[start : start + size])
    for name, version in _versions().items():
        if header.get(name) != version:
            raise StateMismatch(f"{name} version", version, header.get(name))
    if header.get("feature_names") != list(feature_names):
        raise StateMismatch("feature names", list(feature_names), header.get("feature_names"))
    with np.load(io.BytesIO(body[start + size :]), allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    return arrays, header["meta"]
