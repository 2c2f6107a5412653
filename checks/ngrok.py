"""``ngrok``: an ngrok agent's tunnels, read from its local API and each fetched end to end.

The agent's API (``web_addr``, default ``http://127.0.0.1:4040/api``, no auth) lists the
tunnels with their public URL, protocol, forwarding address and connection / request counts
(``GET /api/tunnels``; agents that only serve the newer ``/api/endpoints`` are read there, without
counts). ``GET /api/status`` says whether the agent's session is ``online``. Then each public
URL is fetched (``checks.tunnels``): an ngrok error code on the answer is the tunnel's summary.

One observation per tunnel (subject: its name), plus one for the agent itself (subject ""):
reachable, session online, at least one tunnel. An agent that does not answer, or whose session
is not online, makes only that one (critical): one cause, one incident, and its recovery
resolves it; the tunnels keep their last state until the agent can tell about them again.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from checks.base import Check, CheckContext, Observation, Status
from checks.tunnels import (
    AgentUnreachable,
    TunnelSpec,
    component_note,
    fetch_public,
    parse_json,
    read_agent,
    time_left,
)

AGENT = "ngrok agent API"


class NgrokSpec(TunnelSpec):
    """An ``[[checks]]`` entry of kind ``ngrok``."""

    kind: Literal["ngrok"]
    api_url: str = Field(
        default="http://127.0.0.1:4040/api",
        pattern=r"^https?://",
        description="The agent's local API (its web_addr plus /api).",
    )
    tunnels: list[str] = Field(
        default_factory=list,
        description="Tunnel names that must be up (a missing one is critical); "
        "default: every tunnel the agent reports, and at least one.",
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class Tunnel:
    """One tunnel as the agent reports it (``/api/tunnels`` or ``/api/endpoints``)."""

    name: str
    public_url: str
    proto: str
    addr: str
    values: dict[str, float]

    @classmethod
    def from_tunnel(cls, item: dict[str, Any]) -> Tunnel:
        metrics = item.get("metrics") or {}
        conns, http = metrics.get("conns") or {}, metrics.get("http") or {}
        values = {
            "connections": float(conns.get("count", 0)),
            "open_connections": float(conns.get("gauge", 0)),
            "requests": float(http.get("count", 0)),
            "request_rate_1m": float(http.get("rate1", 0)),
        }
        config = item.get("config") or {}
        return cls(
            name=str(item.get("name", "")),
            public_url=str(item.get("public_url", "")),
            proto=str(item.get("proto", "")),
            addr=str(config.get("addr", "")),
            values=values,
        )

    @classmethod
    def from_endpoint(cls, item: dict[str, Any]) -> Tunnel:
        upstream = item.get("upstream") or {}
        url = str(item.get("url", ""))
        return cls(
            name=str(item.get("name", "")),
            public_url=url,
            proto=url.split("://", 1)[0],
            addr=str(upstream.get("url", "")),
            values={},
        )


class NgrokCheck(Check):
    """Read the agent's tunnels, fetch each public URL; one observation per tunnel."""

    Spec = NgrokSpec

    def __init__(self, spec: NgrokSpec) -> None:
        super().__init__(spec)
        self.spec: NgrokSpec = spec
        self._api = spec.api_url.rstrip("/")
        self._limit = max(spec.run_timeout * 0.9, 0.05)

    async def run(self, ctx: CheckContext) -> list[Observation]:
        note = component_note(self.spec.component)
        ends = time.monotonic() + self._limit
        try:
            session = await self._session_status(ctx, ends)
            tunnels = await self._tunnels(ctx, ends)
        except AgentUnreachable as exc:
            return [self.observe(ctx, Status.CRITICAL, f"{exc}{note}", {"agent_up": 0.0})]
        by_name = {t.name: t for t in tunnels}
        wanted = self.spec.tunnels or list(by_name)
        values = {"agent_up": 1.0, "tunnels": float(len(tunnels))}
        if session != "online":
            summary = f"ngrok agent session at {self._api} is {session!r}, not online{note}"
            return [self.observe(ctx, Status.CRITICAL, summary, values)]
        if not wanted:
            summary = f"the ngrok agent at {self._api} reports no tunnels{note}"
            return [self.observe(ctx, Status.CRITICAL, summary, values)]
        agent = f"ngrok agent at {self._api} online with {_many(len(tunnels), 'tunnel')}"
        observations = [self.observe(ctx, Status.OK, agent, values)]
        for name in wanted:
            observations.append(await self._one(ctx, name, by_name.get(name), note, ends))
        return observations

    async def _one(
        self, ctx: CheckContext, name: str, tunnel: Tunnel | None, note: str, ends: float
    ) -> Observation:
        """The observation of one tunnel: present on the agent, its public URL answering."""
        if tunnel is None:
            summary = f"tunnel {name} is not running on the ngrok agent at {self._api}{note}"
            return self.observe(ctx, Status.CRITICAL, summary, {"up": 0.0}, subject=name)
        route = f"{tunnel.public_url} -> {tunnel.addr} ({tunnel.proto})"
        values = {"up": 1.0, **tunnel.values}
        if not self.spec.probe.enabled:
            return self.observe(ctx, Status.OK, f"{route}{_counts(tunnel)}", values, subject=name)
        result = await fetch_public(ctx, tunnel.public_url, self.spec.probe, time_left(ends))
        values.update(result.values)
        if result.status is not Status.OK:
            summary = f"{result.text}; tunnel {name} {route}{note}"
        else:
            summary = f"{route}: {result.text}{_counts(tunnel)}"
        return self.observe(ctx, result.status, summary, values, subject=name)

    async def _session_status(self, ctx: CheckContext, ends: float) -> str:
        """``/api/status``'s ``status``; "online" when the agent does not serve that route."""
        document = await self._get(ctx, "/status", ends, missing_ok=True)
        return str(document.get("status", "online")) if document is not None else "online"

    async def _tunnels(self, ctx: CheckContext, ends: float) -> list[Tunnel]:
        """The agent's tunnels, from ``/api/tunnels``, else from ``/api/endpoints``."""
        document = await self._get(ctx, "/tunnels", ends, missing_ok=True)
        if document is not None:
            return [Tunnel.from_tunnel(t) for t in document.get("tunnels") or []]
        document = await self._get(ctx, "/endpoints", ends, missing_ok=False) or {}
        return [Tunnel.from_endpoint(e) for e in document.get("endpoints") or []]

    async def _get(self, ctx: CheckContext, route: str, ends: float, *, missing_ok: bool) -> Any:
        """One JSON document of the API; None for a 404 when ``missing_ok``."""
        url = self._api + route
        status, body = await read_agent(ctx, url, AGENT, time_left(ends))
        if status == 404 and missing_ok:
            return None
        if status != 200:
            raise AgentUnreachable(f"{AGENT} {url} answered HTTP {status}: {_error_text(body)}")
        return parse_json(body, url, AGENT)


def _counts(tunnel: Tunnel) -> str:
    """``; 42 connections, 57 requests`` when the agent counts them (``/api/tunnels``)."""
    if not tunnel.values:
        return ""
    return (
        f"; {_many(tunnel.values['connections'], 'connection')}, "
        f"{_many(tunnel.values['requests'], 'request')}"
    )


def _many(count: float, noun: str) -> str:
    """``1 request``, ``57 requests``."""
    return f"{count:.0f} {noun}" + ("" if count == 1 else "s")


def _error_text(body: str) -> str:
    """The agent's error envelope (``msg`` and ``details.err``) as one line, else the body."""
    try:
        document = json.loads(body)
    except ValueError:
        return body.strip()[:200]
    if not isinstance(document, dict):
        return body.strip()[:200]
    details = document.get("details")
    detail = details.get("err") if isinstance(details, dict) else None
    msg = document.get("msg", "")
    return f"{msg}: {detail}" if detail else str(msg)
