"""An ngrok agent and the ngrok edge, on 127.0.0.1, serving the recorded shapes.

The agent's local API (``/api/tunnels``, ``/api/status``, ``/api/endpoints``) answers from
``tests/support/samples/ngrok/`` (copied from the shared api-samples), and the edge plays the
public side: a request whose ``Host`` is a tunnel's public host is forwarded to that tunnel's
``config.addr``, as ngrok would, or answered with ngrok's error header when it cannot be
(``ERR_NGROK_3200`` for a tunnel that is gone, ``ERR_NGROK_8012`` for an upstream that refuses).
The check reaches the edge through its ``probe.probe_origin``, so nothing leaves 127.0.0.1.

Tests drive the state: ``remove`` a tunnel, set the session ``status``, make the API answer
an error (``api_status``), serve only ``/api/endpoints`` (a newer agent), or make the edge
return a given error code (``edge_errors``).
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from tests.support.servers import serve_app

SAMPLES = Path(__file__).resolve().parent / "samples" / "ngrok"


def sample(name: str) -> Any:
    """One recorded body, parsed."""
    return json.loads((SAMPLES / name).read_text())


class NgrokStandin:
    """The agent's state as the tests set it; ``app`` serves it."""

    def __init__(self) -> None:
        self.tunnels: dict[str, dict[str, Any]] = {
            t["name"]: t for t in sample("api_tunnels.json")["tunnels"]
        }
        self.status = "online"
        self.api_status: int | None = None
        self.endpoints_only = False
        self.edge_errors: dict[str, tuple[int, str]] = {}
        self.edge_hits = 0

    def point(self, name: str, upstream: str) -> None:
        """Forward tunnel ``name`` to ``upstream`` (its ``config.addr``)."""
        self.tunnels[name]["config"]["addr"] = upstream

    def remove(self, name: str) -> None:
        """The tunnel is stopped: gone from the API, and its public URL is offline."""
        self.tunnels.pop(name)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/tunnels", self._tunnels)
        app.router.add_get("/api/tunnels/{name}", self._tunnel)
        app.router.add_get("/api/endpoints", self._endpoints)
        app.router.add_get("/api/status", self._status)
        app.router.add_route("*", "/{tail:.*}", self._edge)
        return app

    def _refusal(self) -> web.Response | None:
        if self.api_status is None:
            return None
        body = {"error_code": 103, "status_code": self.api_status, "msg": "agent error"}
        return web.json_response(body, status=self.api_status)

    async def _tunnels(self, _: web.Request) -> web.Response:
        if refused := self._refusal():
            return refused
        if self.endpoints_only:
            return web.json_response(sample("error_404_tunnel_not_found.json"), status=404)
        body = {"tunnels": list(copy.deepcopy(self.tunnels).values()), "uri": "/api/tunnels"}
        return web.json_response(body)

    async def _tunnel(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self.tunnels:
            return web.json_response(sample("error_404_tunnel_not_found.json"), status=404)
        return web.json_response(self.tunnels[name])

    async def _endpoints(self, _: web.Request) -> web.Response:
        if refused := self._refusal():
            return refused
        template = sample("api_endpoints.json")["endpoints"][0]
        endpoints = []
        for tunnel in self.tunnels.values():
            endpoint = copy.deepcopy(template)
            endpoint.update(name=tunnel["name"], url=tunnel["public_url"])
            endpoint["upstream"]["url"] = tunnel["config"]["addr"]
            endpoints.append(endpoint)
        return web.json_response({"endpoints": endpoints})

    async def _status(self, _: web.Request) -> web.Response:
        if refused := self._refusal():
            return refused
        return web.json_response({**sample("api_status.json"), "status": self.status})

    async def _edge(self, request: web.Request) -> web.Response:
        """The public side: route by Host to a tunnel's upstream, or ngrok's error."""
        self.edge_hits += 1
        tunnel = next(
            (t for t in self.tunnels.values() if urlsplit(t["public_url"]).netloc == request.host),
            None,
        )
        if tunnel is None:
            return _ngrok_error(404, "ERR_NGROK_3200", f"The endpoint {request.host} is offline.")
        if tunnel["name"] in self.edge_errors:
            status, code = self.edge_errors[tunnel["name"]]
            return _ngrok_error(status, code, "ngrok error")
        upstream = tunnel["config"]["addr"].rstrip("/") + request.path_qs
        try:
            async with aiohttp.ClientSession() as session, session.get(upstream) as answer:
                body = await answer.read()
                return web.Response(status=answer.status, body=body)
        except aiohttp.ClientConnectorError:
            text = f"The agent failed to establish a connection to the upstream {upstream}."
            return _ngrok_error(502, "ERR_NGROK_8012", text)


def _ngrok_error(status: int, code: str, text: str) -> web.Response:
    """An ngrok-generated error page: the code in the ``ngrok-error-code`` header and the body."""
    return web.Response(
        status=status,
        text=f"<html><body>{text} {code}</body></html>",
        content_type="text/html",
        headers={"ngrok-error-code": code},
    )


@contextlib.asynccontextmanager
async def ngrok_standin() -> AsyncIterator[tuple[NgrokStandin, str, str]]:
    """(state, API URL, edge origin): the agent's API and the edge on one loopback port."""
    state = NgrokStandin()
    async with serve_app(state.app()) as url:
        yield state, f"{url}/api", url
