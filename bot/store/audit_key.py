"""The key the audit trail is signed with, kept outside the database.

``SELFREG_AUDIT_KEY`` when the operator sets it (the stronger choice: a copy of the data
folder then holds no key); otherwise ``audit.key`` beside the store, made once with mode
0600. A trail keyed with HMAC cannot be rewritten by someone who can write the database but
not read the key. The key never appears in a row, a log line or an export: rows carry only
the key's id (the first 12 hex digits of its SHA-256), so ``verify`` can tell "another key"
from "changed".
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

KEY_ENV = "SELFREG_AUDIT_KEY"
KEY_FILE = "audit.key"

_memory_key = secrets.token_bytes(32)  # a store in memory keeps no trail worth re-checking


def key_path(db_path: Path) -> Path:
    return db_path.parent / KEY_FILE


def find_key(db_path: Path) -> bytes | None:
    """The key for the store at ``db_path``, or None when there is none (yet)."""
    from_env = os.environ.get(KEY_ENV, "")
    if from_env:
        return from_env.encode()
    if str(db_path) == ":memory:":
        return _memory_key
    try:
        return key_path(db_path).read_bytes().strip() or None
    except (FileNotFoundError, NotADirectoryError):
        return None


def key_for_writing(db_path: Path) -> bytes:
    """The key, made and stored (0600, created exclusively) on first use."""
    found = find_key(db_path)
    if found is not None:
        return found
    path = key_path(db_path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it a moment ago
        return path.read_bytes().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    return path.read_bytes().strip()


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:12]
