"""Real loopback servers for tests: HTTP that answers 200, 500, slowly, or not at all."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import sys
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

T = TypeVar("T")


async def _ok(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _error(_: web.Request) -> web.Response:
    return web.json_response({"status": "broken"}, status=500)


async def _slow(request: web.Request) -> web.Response:
    await asyncio.sleep(float(request.query.get("seconds", "0.5")))
    return web.json_response({"status": "ok"})


async def _redirect(_: web.Request) -> web.Response:
    raise web.HTTPFound("/ok")


@contextlib.asynccontextmanager
async def http_server() -> AsyncIterator[str]:
    """An aiohttp server on 127.0.0.1 with /ok, /error, /slow?seconds=N and /redirect."""
    app = web.Application()
    app.router.add_get("/ok", _ok)
    app.router.add_get("/error", _error)
    app.router.add_get("/slow", _slow)
    app.router.add_get("/redirect", _redirect)
    async with serve_app(app) as url:
        yield url


@contextlib.asynccontextmanager
async def serve_app(app: web.Application, tls: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    """``app`` served on a free port of 127.0.0.1 for the block (over TLS with ``tls``);
    yields its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def https_server(cert: Path, key: Path) -> AsyncIterator[str]:
    """An aiohttp server on 127.0.0.1 answering "ok" at / over TLS with ``cert``."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    app = web.Application()
    app.router.add_get("/", _text_ok)
    async with serve_app(app, context) as url:
        yield url


async def _text_ok(_: web.Request) -> web.Response:
    return web.Response(text="ok")


@contextlib.contextmanager
def silent_listener() -> socket.socket:
    """A socket that accepts connections into its backlog but never answers a byte."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield sock
    finally:
        sock.close()


@contextlib.contextmanager
def tcp_listener() -> socket.socket:
    """A socket that accepts every connection and closes it at once (a live TCP service)."""
    with tcp_listener_on(0) as sock:
        yield sock


@contextlib.contextmanager
def tcp_listener_on(port: int) -> socket.socket:
    """``tcp_listener`` on a chosen port (0: any free one), e.g. to bring a service back."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(64)
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield sock
    finally:
        stop.set()
        thread.join(timeout=2)
        sock.close()


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound and released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LoopThread:
    """An asyncio loop in a thread of its own, for async stand-ins (the Fly API's) in tests
    that run synchronously beside a child ``selfreg run``: ``run`` a coroutine there and wait
    for its result, ``call`` a function there (a stand-in's state changes on its own loop)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def call(self, function: Callable[[], T], timeout: float = 10.0) -> T:
        async def inside() -> T:
            return function()

        return self.run(inside(), timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop.close()


class _Http10Answer(BaseHTTPRequestHandler):
    """200 "ok" over HTTP/1.0 (the stdlib default): every request its own TCP connection."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        return


def small_http_server(port: int = 0, backlog: int = 5) -> ThreadingHTTPServer:
    """A stdlib ``ThreadingHTTPServer`` on 127.0.0.1 answering 200 to every GET, one
    connection per request, listening with ``backlog`` (the stdlib's default is 5): the
    small health endpoint that a burst of simultaneous connections overflows."""

    class Server(ThreadingHTTPServer):
        request_queue_size = backlog
        daemon_threads = True

        def handle_error(self, request: object, client_address: object) -> None:
            """One line, not a traceback: a client that gave up before the answer."""
            print(f"small_http_server: {client_address} hung up early", file=sys.stderr)

    return Server(("127.0.0.1", port), _Http10Answer)
