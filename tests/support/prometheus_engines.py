"""Debian's real ``prometheus`` and ``prometheus-alertmanager`` on loopback for the tests.

Each engine runs as a child process on a free 127.0.0.1 port with its config and data in a
temporary folder; start-up waits for its ``/-/ready`` (bounded), stop sends SIGTERM, then
SIGKILL. ``binaries()`` finds them (Debian names ``prometheus-alertmanager``, upstream
``alertmanager``); tests skip with the reason when one is missing (``./scripts/test``
installs both). A ``Target`` is a tiny ``/metrics`` endpoint whose gauges the test sets.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.support.servers import free_port

READY_TIMEOUT = 30.0


def binaries() -> tuple[str | None, str | None]:
    """Paths of the Prometheus and Alertmanager programs, None where absent."""
    alertmanager = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    return shutil.which("prometheus"), alertmanager


def missing_reason() -> str | None:
    """Why the real-engine tests cannot run here, or None."""
    prometheus, alertmanager = binaries()
    absent = [n for n, p in (("prometheus", prometheus), ("alertmanager", alertmanager)) if not p]
    if not absent:
        return None
    return f"{' and '.join(absent)} not installed (./scripts/test installs Debian's packages)"


def get_json(url: str, timeout: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


def wait_until(predicate, timeout: float, what: str, interval: float = 0.25):
    """Poll ``predicate`` until it returns something truthy, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except OSError as exc:  # not up yet
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


class Engine:
    """One engine child process; ``url`` is its base URL, ``log`` its output file."""

    def __init__(self, name: str, argv: list[str], port: int, folder: Path) -> None:
        self.name, self.port, self.url = name, port, f"http://127.0.0.1:{port}"
        self.log = folder / f"{name}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=folder)

    def wait_ready(self) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited:\n{self.log.read_text()[-3000:]}")
            with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as response:
                return response.status == 200

        wait_until(ready, READY_TIMEOUT, f"{self.name} to be ready")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@contextlib.contextmanager
def running(engine: Engine) -> Iterator[Engine]:
    try:
        engine.wait_ready()
        yield engine
    finally:
        engine.stop()


def prometheus(folder: Path, config: str, port: int | None = None) -> Engine:
    """Prometheus on ``port`` (a free one by default) with ``config`` as its YAML."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "prometheus.yml").write_text(config)
    port = port or free_port()
    argv = [
        binaries()[0] or "prometheus",
        f"--config.file={folder / 'prometheus.yml'}",
        f"--storage.tsdb.path={folder / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    return Engine("prometheus", argv, port, folder)


def alertmanager(folder: Path, config: str, port: int | None = None) -> Engine:
    """Alertmanager on ``port`` with ``config`` as its YAML, clustering off."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "alertmanager.yml").write_text(config)
    port = port or free_port()
    argv = [
        binaries()[1] or "alertmanager",
        f"--config.file={folder / 'alertmanager.yml'}",
        f"--storage.path={folder / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    return Engine("alertmanager", argv, port, folder)


def query(prometheus_url: str, promql: str) -> list[dict[str, Any]]:
    """The result of an instant query (a vector's series), through the real API."""
    url = prometheus_url + "/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    document = get_json(url)
    assert document["status"] == "success", document
    result: list[dict[str, Any]] = document["data"]["result"]
    return result


class Target:
    """A scrape target on 127.0.0.1: ``/metrics`` shows ``gauges`` as Prometheus text."""

    def __init__(self, **gauges: float) -> None:
        self.gauges = dict(gauges)
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = "".join(f"{k} {v}\n" for k, v in target.gauges.items()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Target:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
