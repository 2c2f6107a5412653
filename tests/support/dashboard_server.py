"""The dashboard served on 127.0.0.1 from a thread of its own, for browser tests, the
screenshot script and the bench: the same ``build_app`` and ``Dashboard`` selfreg serves,
over a store file, with the clock and config facts the caller gives.

A thread with its own event loop lets a test drive the browser with playwright's plain
(synchronous) API while the server answers.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry

from bot.web.app import build_app
from bot.web.dashboard import Dashboard
from bot.web.dashboard_data import Facts, Reader, Service

FACTS = Facts(
    limits={
        "api-health": {"latency": [("warning", 60.0, "up"), ("critical", 80.0, "up")]},
        "host": {"disk_percent": [("warning", 80.0, "up"), ("critical", 90.0, "up")]},
    },
    action_kinds={"restart-api": "restart"},
    approvers={"restart-api": ("U0ALICE", "U0BOB")},
    services={
        "mobile": Service(kind="peer", where="https://mobile.example:8787"),
        "web-fly": Service(kind="fly", where="web-fly"),
        "edge-tunnel": Service(kind="cloudflared", where="edge.example.com"),
    },
)


class _Backend:
    """/health and /status for a server without an engine."""

    def health(self) -> tuple[bool, dict[str, Any]]:
        return True, {"status": "ok"}

    def status(self) -> dict[str, Any]:
        return {}


class DashboardServer:
    """Serves the dashboard over ``path`` until ``stop``; ``url`` once started."""

    def __init__(
        self, path: Path, now: Callable[[], float], token: str | None = None, facts: Facts = FACTS
    ) -> None:
        self.reader = Reader(path, lambda: facts, now)
        self.token = token
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> str:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=10)
        return self.url

    async def _serve(self) -> None:
        dashboard = Dashboard(self.reader, self.token)
        app = build_app(_Backend(), CollectorRegistry(), self.token, dashboard=dashboard)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
