"""The loopback HTTP server the benches measure against, in a process of its own.

Shared by ``overhead.py`` and ``http_checks.py``: answering 200 on ``/e0`` .. ``/e{N-1}`` on
127.0.0.1, started with the ``spawn`` method so the parent's state does not leak into it, and
stopped by a kill. Two kinds:

- ``keepalive``: an aiohttp app speaking HTTP/1.1, so a client keeps its connections open;
- ``close``: Python's ``http.server.ThreadingHTTPServer`` speaking HTTP/1.0, so every request
  opens and closes a TCP connection (as many small health endpoints and Monit-style checks
  do), with the stdlib's listen backlog of 5 unless told otherwise.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import socket
import time

HOST = "127.0.0.1"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def serve(port: int, endpoints: int, backlog: int = 128) -> None:
    """Answer 200 on /e0 .. /e{endpoints-1} on 127.0.0.1:port until killed."""
    from aiohttp import web

    async def answer(request: web.Request) -> web.Response:
        if int(request.match_info["n"]) < endpoints:
            return web.Response(text="ok")
        raise web.HTTPNotFound()

    app = web.Application()
    app.router.add_get(r"/e{n:\d+}", answer)
    web.run_app(app, host=HOST, port=port, access_log=None, print=None, backlog=backlog)


def serve_close(port: int, endpoints: int, backlog: int = 5) -> None:
    """HTTP/1.0, one connection per request: a ThreadingHTTPServer on 127.0.0.1:port
    (``tests.support.servers.small_http_server``; it answers every path)."""
    from tests.support.servers import small_http_server

    small_http_server(port, backlog).serve_forever()


SERVERS = {"keepalive": serve, "close": serve_close}
"""The endpoint kinds, by name: the function that serves each."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float) -> None:
    """Return once 127.0.0.1:port accepts connections; raise after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"the bench HTTP server did not listen on {HOST}:{port} in {timeout:g}s")


def start_server(
    endpoints: int, backlog: int | None = None, kind: str = "keepalive"
) -> tuple[multiprocessing.Process, int]:
    """Start the HTTP server of ``kind`` in a separate process; return it and its port.
    ``backlog`` None: the kind's own default (128 for aiohttp, 5 for the stdlib server)."""
    port = free_port()
    args = (port, endpoints) if backlog is None else (port, endpoints, backlog)
    process = multiprocessing.get_context("spawn").Process(
        target=SERVERS[kind], args=args, name=f"bench-http-{kind}", daemon=True
    )
    process.start()
    try:
        wait_for_port(port, START_TIMEOUT)
    except BaseException:
        stop_server(process)
        raise
    return process, port


def stop_server(process: multiprocessing.Process | None) -> None:
    """Kill the server process and reap it."""
    if process is not None and process.is_alive():
        process.kill()
        process.join(timeout=STOP_TIMEOUT)
