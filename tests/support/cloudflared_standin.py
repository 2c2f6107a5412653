"""A cloudflared metrics server and the Cloudflare edge for its hostname, on 127.0.0.1.

``/ready``, ``/metrics``, ``/quicktunnel`` and ``/healthcheck`` answer from
``tests/support/samples/cloudflared/`` (copied from the shared api-samples): the healthy
Prometheus text with its ``ha_connections`` and ``request_errors`` lines set from the state,
``/ready`` 200 or 503 (its ``status`` field mirrors the HTTP code) by the connections left.
Any other request is the edge: a request for ``hostname`` is forwarded to ``origin``, or
answered 530 while the connector has no edge connection (Cloudflare's "tunnel error") and 502
when the origin refuses.

Tests drive the state: ``disconnect`` / ``ha_connections``, ``request_errors`` (a counter),
``quick_hostname`` (a quick tunnel).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from tests.support.servers import serve_app

SAMPLES = Path(__file__).resolve().parent / "samples" / "cloudflared"


class CloudflaredStandin:
    """The connector's state as the tests set it; ``app`` serves it."""

    def __init__(self, hostname: str = "runner.example.com") -> None:
        self.hostname = hostname
        self.origin: str | None = None
        self.ha_connections = 4
        self.request_errors = 3
        self.quick_hostname = ""

    def disconnect(self) -> None:
        """Every edge connection drops: /ready 503, ha_connections 0."""
        self.ha_connections = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/ready", self._ready)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/quicktunnel", self._quicktunnel)
        app.router.add_get("/healthcheck", self._healthcheck)
        app.router.add_route("*", "/{tail:.*}", self._edge)
        return app

    def metrics_text(self) -> str:
        """The recorded healthy text with this state's connection and error counts."""
        text = (SAMPLES / "metrics_healthy.prom").read_text()
        text = re.sub(
            r"^cloudflared_tunnel_ha_connections \d+$",
            f"cloudflared_tunnel_ha_connections {self.ha_connections}",
            text,
            flags=re.M,
        )
        return re.sub(
            r"^cloudflared_tunnel_request_errors \d+$",
            f"cloudflared_tunnel_request_errors {self.request_errors}",
            text,
            flags=re.M,
        )

    async def _ready(self, _: web.Request) -> web.Response:
        name = "ready_200.json" if self.ha_connections > 0 else "ready_503.json"
        body: dict[str, Any] = json.loads((SAMPLES / name).read_text())
        body["readyConnections"] = self.ha_connections
        return web.json_response(body, status=body["status"])

    async def _metrics(self, _: web.Request) -> web.Response:
        return web.Response(text=self.metrics_text(), content_type="text/plain")

    async def _quicktunnel(self, _: web.Request) -> web.Response:
        return web.json_response({"hostname": self.quick_hostname})

    async def _healthcheck(self, _: web.Request) -> web.Response:
        return web.Response(text=(SAMPLES / "healthcheck.txt").read_text())

    async def _edge(self, request: web.Request) -> web.Response:
        """The public side of the hostname: forwarded to the origin while connected."""
        if request.host not in (self.hostname, self.quick_hostname) or not request.host:
            return web.Response(status=404, text="no such host")
        if self.ha_connections <= 0 or self.origin is None:
            return web.Response(status=530, text="error code: 1033")
        upstream = self.origin.rstrip("/") + request.path_qs
        try:
            async with aiohttp.ClientSession() as session, session.get(upstream) as answer:
                return web.Response(status=answer.status, body=await answer.read())
        except aiohttp.ClientConnectorError:
            self.request_errors += 1  # what cloudflared counts: a request it could not proxy
            return web.Response(status=502, text="Bad gateway")


@contextlib.asynccontextmanager
async def cloudflared_standin(
    hostname: str = "runner.example.com",
) -> AsyncIterator[tuple[CloudflaredStandin, str]]:
    """(state, base URL): the metrics server and the edge on one loopback port."""
    state = CloudflaredStandin(hostname)
    async with serve_app(state.app()) as url:
        yield state, url
