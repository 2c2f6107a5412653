"""``cloudflared``: a Cloudflare Tunnel connector, read from its metrics server and its public
hostname fetched end to end.

cloudflared serves, on the address given by ``--metrics`` (pin it: by default it takes the first
free port of 127.0.0.1:20241-20245), ``GET /ready`` (200 with ``readyConnections`` while at least
one edge connection is up, else 503) and ``GET /metrics`` (Prometheus text, parsed with
prometheus_client's parser): ``cloudflared_tunnel_ha_connections`` is the primary signal (0 is
down, below the expected count degraded) and ``cloudflared_tunnel_request_errors`` counts
requests it could not proxy to the origin. The public hostname (``hostname``, else the quick
tunnel's from ``GET /quicktunnel``) is then fetched as a visitor would (``checks.tunnels``).

One observation per connector, which serves one tunnel (subject: the hostname, or "").
"""

from __future__ import annotations

import time
from typing import Any, Literal

from prometheus_client.parser import text_string_to_metric_families
from pydantic import Field

from checks.base import Check, CheckContext, Observation, Status, Threshold
from checks.tunnels import (
    AgentUnreachable,
    TunnelSpec,
    component_note,
    fetch_public,
    parse_json,
    read_agent,
    time_left,
)

HA_CONNECTIONS = "cloudflared_tunnel_ha_connections"
REQUEST_ERRORS = "cloudflared_tunnel_request_errors"
TOTAL_REQUESTS = "cloudflared_tunnel_total_requests"
SERVER = "cloudflared metrics server"


class CloudflaredSpec(TunnelSpec):
    """An ``[[checks]]`` entry of kind ``cloudflared``."""

    kind: Literal["cloudflared"]
    metrics_url: str = Field(
        default="http://127.0.0.1:20241",
        pattern=r"^https?://",
        description="cloudflared's metrics server (its --metrics address).",
    )
    hostname: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9.-]+(:\d+)?$",
        description="The tunnel's public hostname, fetched as https://HOSTNAME + probe.path; "
        "default: the quick tunnel's hostname, if this is one.",
    )
    ha_connections: int = Field(
        default=4,
        ge=1,
        description="Edge connections expected (cloudflared's --ha-connections); fewer is a "
        "warning, none is critical.",
    )
    request_errors: Threshold = Field(
        default_factory=lambda: Threshold(warn=1),
        description="Requests cloudflared failed to proxy to the origin since the last run.",
    )


class CloudflaredCheck(Check):
    """Ready connections, HA connections, new request errors, then the public hostname."""

    Spec = CloudflaredSpec

    def __init__(self, spec: CloudflaredSpec) -> None:
        super().__init__(spec)
        self.spec: CloudflaredSpec = spec
        self._base = spec.metrics_url.rstrip("/")
        self._limit = max(spec.run_timeout * 0.9, 0.05)
        self._last_errors: float | None = None

    async def run(self, ctx: CheckContext) -> list[Observation]:
        spec, note = self.spec, component_note(self.spec.component)
        subject = spec.hostname or ""
        ends = time.monotonic() + self._limit
        try:
            ready_code, ready = await self._get(ctx, "/ready", ends)
            _, text = await self._get(ctx, "/metrics", ends, as_text=True)
            figures = _figures(text)
        except AgentUnreachable as exc:
            return [self.observe(ctx, Status.CRITICAL, f"{exc}{note}", {"up": 0.0}, subject)]
        values = {"up": 1.0, "ready_connections": float(ready.get("readyConnections", 0))}
        values.update(figures)
        problems = self._problems(ready_code, values)
        hostname = spec.hostname or await self._quick_tunnel(ctx, ends)
        head = f"{values.get('ha_connections', 0):.0f} of {spec.ha_connections} HA connections"
        probed = ""
        if hostname and spec.probe.enabled and values.get("ha_connections", 0) > 0:
            result = await fetch_public(ctx, f"https://{hostname}", spec.probe, time_left(ends))
            values.update(result.values)
            probed = f"; {result.text}"
            if result.status is not Status.OK:
                problems.append((result.status, result.text))
        status = Status.worst([s for s, _ in problems])
        if problems:
            summary = "; ".join(t for _, t in problems) + f" ({head}){note}"
        else:
            summary = f"{head}, ready{probed}; {values.get('requests', 0):.0f} requests"
        return [self.observe(ctx, status, summary, values, subject)]

    def _problems(self, ready_code: int, values: dict[str, float]) -> list[tuple[Status, str]]:
        """What the connector's own figures say is wrong: no edge, fewer edges, new errors."""
        problems: list[tuple[Status, str]] = []
        ha = values.get("ha_connections", 0.0)
        if ready_code != 200 or ha <= 0:
            problems.append(
                (Status.CRITICAL, f"no connection to Cloudflare's edge (/ready {ready_code})")
            )
        elif ha < self.spec.ha_connections:
            problems.append((Status.WARNING, "degraded: fewer edge connections than expected"))
        errors = values.get("request_errors")
        if errors is not None:
            previous, self._last_errors = self._last_errors, errors
            if previous is not None:
                new = errors - previous if errors >= previous else errors  # restarted: reset
                values["new_request_errors"] = new
                error_status = self.spec.request_errors.status(new)
                if error_status is not Status.OK:
                    text = f"{new:.0f} requests failed to reach the origin since the last run"
                    problems.append((error_status, text))
        return problems

    async def _quick_tunnel(self, ctx: CheckContext, ends: float) -> str:
        """The quick tunnel's hostname (``/quicktunnel``); "" for a named tunnel or no answer."""
        try:
            _, document = await self._get(ctx, "/quicktunnel", ends)
        except AgentUnreachable:
            return ""
        return str(document.get("hostname") or "")

    async def _get(
        self, ctx: CheckContext, route: str, ends: float, *, as_text: bool = False
    ) -> Any:
        """(HTTP status, JSON document or text) of one route of the metrics server."""
        url = self._base + route
        status, body = await read_agent(ctx, url, SERVER, time_left(ends))
        if status not in (200, 503):
            raise AgentUnreachable(f"{SERVER} {url} answered HTTP {status}")
        return status, body if as_text else parse_json(body, url, SERVER)


def _figures(text: str) -> dict[str, float]:
    """The connector's figures from its Prometheus text: HA connections, requests, errors."""
    wanted = {
        HA_CONNECTIONS: "ha_connections",
        REQUEST_ERRORS: "request_errors",
        TOTAL_REQUESTS: "requests",
    }
    figures: dict[str, float] = {}
    try:
        for family in text_string_to_metric_families(text):
            if family.name in wanted and family.samples:
                figures[wanted[family.name]] = sum(s.value for s in family.samples)
    except ValueError as exc:
        raise AgentUnreachable(f"cloudflared /metrics is not Prometheus text: {exc}") from None
    return figures
