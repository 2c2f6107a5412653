"""Driving ``selfreg`` commands in-process: click's runner and a control-socket stand-in.

``ControlStandin`` answers on the data folder's control socket the way a running instance
does (JSON over HTTP on a Unix socket), from answers the test sets; it runs its own event
loop in a thread, because the commands call ``asyncio.run`` themselves.
"""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

from aiohttp import web
from click.testing import CliRunner, Result

from bot.cli import cli

TCP_CHECK = '[[checks]]\nkind = "tcp"\nname = "{name}"\nport = {port}\ninterval = "1s"\n'


class ControlStandin:
    """A Unix-socket HTTP server answering ``(method, route)`` with the answers set in
    ``answers``; every request is kept in ``asked`` as (method, route, body)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.answers: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        self.asked: list[tuple[str, str, Any]] = []
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    async def _answer(self, request: web.Request) -> web.Response:
        body = await request.text()
        self.asked.append((request.method, request.path, json.loads(body) if body else None))
        status, answer = self.answers.get(
            (request.method, request.path), (404, {"error": "no such route"})
        )
        return web.json_response(answer, status=status)

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._answer)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.UnixSite(self._runner, str(self.path)).start()

    def start(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=5)

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()


def write_config(tmp_path: Path, text: str) -> Path:
    config = tmp_path / "selfreg.toml"
    config.write_text(text)
    return config


def invoke(data_dir: Path, *args: str) -> Result:
    """Run ``selfreg ARGS`` in this process with ``data_dir`` as its data folder."""
    runner = CliRunner(env={"SELFREG_DATA_DIR": str(data_dir), "SELFREG_WEB_PORT": "0"})
    return runner.invoke(cli, list(args), catch_exceptions=False)
