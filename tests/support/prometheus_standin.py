"""A Prometheus HTTP API on 127.0.0.1 answering instant queries with the recorded shapes.

``POST|GET /api/v1/query`` answers from ``tests/support/samples/prometheus/`` (copied from the
shared api-samples): the test maps a query text to a sample file and HTTP status
(``answers``); an unmapped query is the empty vector. ``warnings`` adds a partial-answer
``warnings`` list to every success (the envelope field the API documents; no recorded sample
carries one). ``token`` set: a request without ``Authorization: Bearer <token>`` is 401, as a
proxy in front of Prometheus answers. Every request's form is kept in ``seen``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.support.servers import serve_app

SAMPLES = Path(__file__).resolve().parent / "samples" / "prometheus"

ERRORS = {
    "error_400_bad_data.json": 400,
    "error_422_execution.json": 422,
    "error_503_timeout.json": 503,
}
"""The HTTP status each recorded error body comes with."""


class PrometheusStandin:
    """Which sample answers which query; ``app`` serves them."""

    def __init__(self) -> None:
        self.answers: dict[str, str] = {}
        self.warnings: list[str] = []
        self.token: str | None = None
        self.seen: list[dict[str, str]] = []
        self.override: dict[str, Any] | None = None
        """A whole answer to serve instead of the samples (a large vector, say)."""

    def sample(self, name: str) -> dict[str, Any]:
        document: dict[str, Any] = json.loads((SAMPLES / name).read_text())
        return document

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/v1/query", self._query)
        return app

    async def _query(self, request: web.Request) -> web.Response:
        form = dict(await request.post()) if request.method == "POST" else dict(request.query)
        self.seen.append({k: str(v) for k, v in form.items()})
        if self.token and request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.Response(status=401, text="Unauthorized\n")
        name = self.answers.get(str(form.get("query", "")), "query_vector_empty.json")
        body = self.override or self.sample(name)
        if body.get("status") == "success" and self.warnings:
            body["warnings"] = list(self.warnings)
        return web.json_response(body, status=ERRORS.get(name, 200))


@contextlib.asynccontextmanager
async def prometheus_standin() -> AsyncIterator[tuple[PrometheusStandin, str]]:
    """The stand-in serving on a free loopback port: (state, base URL)."""
    standin = PrometheusStandin()
    async with serve_app(standin.app()) as base:
        yield standin, base
