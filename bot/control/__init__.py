"""The control socket: how the CLI talks to a running selfreg.

An HTTP server on a Unix socket in the data folder, mode 0600: the file's permissions decide
who may connect at all (selfreg's own OS user, and root). ``selfreg status``, ``health`` and
``check run`` ask it first and fall back to working alone when nobody answers; what people
do (ack, silence, run, approve, components) goes through ``people``, as the approver
``[cli] users`` maps the local user to.

This package's own module is the client's side, kept light for a CLI that starts, asks once
and exits: ``ask`` speaks HTTP/1.1 over the socket with the standard library's
``http.client`` (about 15 ms to import, where aiohttp takes over 100 ms of every
``selfreg status``). The server (aiohttp's, in the running selfreg) is ``bot.control.server``.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import socket
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bot.socket_probe import socket_in_use
from checks.base import Observation

__all__ = ["ask", "observation_dict", "remove_socket", "socket_in_use"]


def observation_dict(observation: Observation) -> dict[str, Any]:
    row = asdict(observation)
    row["status"] = observation.status.value
    row["values"] = dict(observation.values)
    return row


_REFUSALS: dict[int, type[Exception]] = {403: PermissionError, 400: ValueError}


class _UnixConnection(http.client.HTTPConnection):
    """HTTP/1.1 to the control socket's path instead of a host and port."""

    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("selfreg", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(str(self.path))
        except OSError:
            sock.close()
            raise
        self.sock = sock


def _request(
    path: Path, method: str, route: str, timeout: float, body: dict[str, Any] | None
) -> tuple[int, Any]:
    connection = _UnixConnection(path, timeout)
    try:
        payload = None if body is None else json.dumps(body).encode()
        headers = {} if payload is None else {"Content-Type": "application/json"}
        connection.request(method, route, body=payload, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


async def ask(
    path: Path, method: str, route: str, timeout: float = 60.0, body: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """Call the running instance; None when none answers on ``path``. An error answer
    raises with its text: ``PermissionError`` refused (403), ``ValueError`` bad input (400),
    ``LookupError`` otherwise (404: no such incident, check, action ...). No answer within
    ``timeout`` raises ``TimeoutError``."""
    if not path.exists():
        return None
    try:
        status, answer = await asyncio.to_thread(_request, path, method, route, timeout, body)
    except TimeoutError:
        raise
    except (OSError, http.client.HTTPException, json.JSONDecodeError):
        return None  # no socket, nobody listening, not ours to open, or not an answer
    if status >= 400 and isinstance(answer, dict) and "error" in answer:
        raise _REFUSALS.get(status, LookupError)(answer["error"])
    return answer


def remove_socket(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
