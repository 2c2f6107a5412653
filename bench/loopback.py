"""The loopback HTTP server the benches measure against, in a process of its own.

Shared by ``overhead.py`` and ``http_checks.py``: an aiohttp app answering 200 on
``/e0`` .. ``/e{N-1}`` on 127.0.0.1, started with the ``spawn`` method so the parent's state
does not leak into it, and stopped by a kill.
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


def start_server(endpoints: int, backlog: int = 128) -> tuple[multiprocessing.Process, int]:
    """Start the HTTP server in a separate process; return it and its port."""
    port = free_port()
    process = multiprocessing.get_context("spawn").Process(
        target=serve, args=(port, endpoints, backlog), name="bench-http-server", daemon=True
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
