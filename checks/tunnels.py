"""What the two tunnel kinds (``ngrok``, ``cloudflared``) share: the keys of a public probe and
the probe itself.

A tunnel's agent can look healthy (connected, registered) while nothing reaches the service
behind it, so each tunnel's public URL is fetched as a visitor would. The answer is judged on
its status, and on ngrok's ``ngrok-error-code`` header, which only ngrok sets (an upstream
cannot), so a code there always names a failure of the tunnel, not of the service.

``probe_origin`` fetches the public URL through another origin (scheme, host and port) while
the ``Host`` header keeps the public name: a probe through a local proxy, and how the tests
reach their loopback stand-ins without leaving 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from pydantic import BaseModel, ConfigDict, Field

from checks.base import CheckContext, CheckSpec, Status
from checks.bodies import read_capped
from checks.thresholds import describe_ms, os_reason

# ngrok's own codes that the probe can meet, and what each means for the tunnel (ngrok docs,
# /work/shared/api-samples/NOTES.md §2). 6024 is the free plan's browser interstitial: the
# tunnel works, so it is not a failure.
NGROK_ERRORS: dict[str, str] = {
    "ERR_NGROK_3200": "the endpoint is offline (the agent or its tunnel is gone)",
    "ERR_NGROK_8012": "the agent is up but its upstream refused the connection",
    "ERR_NGROK_3004": "ngrok got an invalid answer from the upstream",
}
NOT_A_FAILURE = {"ERR_NGROK_6024"}

_PROBE_BODY = 1 << 16  # the public fetch reads this much of the answer: it proves traffic flows
_AGENT_BODY = 4 << 20  # an agent's JSON or metrics answer, read whole up to this

_HEADERS = {
    # a non-browser agent, and ngrok's own switch: no interstitial page instead of the service
    "User-Agent": "selfreg-tunnel-probe",
    "ngrok-skip-browser-warning": "1",
}


class PublicProbe(BaseModel):
    """``probe``: how a tunnel's public URL is fetched to prove it carries traffic."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="false: judge the agent's own view only.")
    path: str = Field(default="/", pattern=r"^/", description="Path requested on the public URL.")
    expect_status: list[int] = Field(
        default_factory=list, description="Accepted status codes; default any 2xx or 3xx."
    )
    probe_origin: str | None = Field(
        default=None,
        pattern=r"^https?://[^/]+$",
        description="Fetch through this origin (e.g. 'http://127.0.0.1:8081': a local proxy) "
        "instead of the public host, keeping the public name in the Host header.",
    )


class TunnelSpec(CheckSpec):
    """The keys both tunnel kinds add to a ``[[checks]]`` entry."""

    probe: PublicProbe = Field(
        default_factory=PublicProbe, description="The end-to-end fetch of each public URL."
    )
    component: str | None = Field(
        default=None,
        description="The [[components]] entry that runs this agent: the supervisor restarts "
        "it when it exits, and the incident names it.",
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class ProbeResult:
    """What one fetch of a public URL showed: a failure (status and text), or ok with facts."""

    status: Status
    text: str
    values: dict[str, float]


def probe_target(public_url: str, probe: PublicProbe) -> tuple[str, dict[str, str]]:
    """The URL actually requested and its headers: the public URL plus ``path``, sent to
    ``probe_origin`` (with the public host as ``Host``) when one is set."""
    parts = urlsplit(public_url)
    base_path = parts.path.rstrip("/")
    url = urlunsplit((parts.scheme, parts.netloc, base_path + probe.path, "", ""))
    headers = dict(_HEADERS)
    if probe.probe_origin:
        origin = urlsplit(probe.probe_origin)
        url = urlunsplit((origin.scheme, origin.netloc, base_path + probe.path, "", ""))
        headers["Host"] = parts.netloc
    return url, headers


async def fetch_public(
    ctx: CheckContext, public_url: str, probe: PublicProbe, timeout: float
) -> ProbeResult:
    """Fetch ``public_url`` once as a visitor would; a TCP tunnel (``tcp://``) is connected to."""
    if public_url.startswith("tcp://"):
        return await _connect(public_url, probe, timeout)
    url, headers = probe_target(public_url, probe)
    shown = public_url.rstrip("/") + probe.path
    started = time.perf_counter()
    try:
        async with ctx.http.get(
            url, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
        ) as response:
            await read_capped(response.content, _PROBE_BODY)
            code, error_code = response.status, response.headers.get("ngrok-error-code")
    except TimeoutError:
        return _down(f"no answer from {shown} within {describe_ms(timeout)}")
    except aiohttp.ClientConnectorError as exc:
        return _down(f"cannot connect to {shown}: {os_reason(exc.os_error)}")
    except aiohttp.ClientError as exc:
        return _down(f"request to {shown} failed: {exc.__class__.__name__}: {exc}")
    latency = time.perf_counter() - started
    values = {"probe_up": 1.0, "probe_status": float(code), "probe_latency": latency}
    if error_code and error_code not in NOT_A_FAILURE:
        meaning = NGROK_ERRORS.get(error_code, "ngrok reported an error")
        values["probe_up"] = 0.0
        return ProbeResult(
            status=Status.CRITICAL,
            text=f"{error_code}: {meaning} (HTTP {code} from {shown})",
            values=values,
        )
    accepted = code in probe.expect_status if probe.expect_status else 200 <= code < 400
    if not accepted:
        values["probe_up"] = 0.0
        return ProbeResult(status=Status.CRITICAL, text=f"HTTP {code} from {shown}", values=values)
    return ProbeResult(
        status=Status.OK, text=f"HTTP {code} from {shown} in {describe_ms(latency)}", values=values
    )


async def _connect(public_url: str, probe: PublicProbe, timeout: float) -> ProbeResult:
    """A TCP tunnel carries no HTTP: a completed connection is the end-to-end proof."""
    target = urlsplit(probe.probe_origin or public_url)
    host, port = target.hostname or "", target.port or 0
    started = time.perf_counter()
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=timeout)
    except TimeoutError:
        return _down(f"no connection to {public_url} within {describe_ms(timeout)}")
    except OSError as exc:
        return _down(f"cannot connect to {public_url}: {os_reason(exc)}")
    latency = time.perf_counter() - started
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return ProbeResult(
        status=Status.OK,
        text=f"connected to {public_url} in {describe_ms(latency)}",
        values={"probe_up": 1.0, "probe_latency": latency},
    )


def _down(text: str) -> ProbeResult:
    return ProbeResult(status=Status.CRITICAL, text=text, values={"probe_up": 0.0})


def time_left(ends: float) -> float:
    """Seconds left until ``ends`` (a ``time.monotonic()`` value), at least 50 ms: the requests
    of one run share 90 % of its timeout, so a slow answer ends as the endpoint's failure
    (critical) rather than as the engine's timeout (unknown)."""
    return max(ends - time.monotonic(), 0.05)


class AgentUnreachable(Exception):
    """A tunnel agent's local server (ngrok's API, cloudflared's metrics) did not answer
    usefully; the text is the observation's summary."""


async def read_agent(ctx: CheckContext, url: str, what: str, timeout: float) -> tuple[int, str]:
    """(HTTP status, body) of one GET of an agent's local server; AgentUnreachable when no
    answer comes. ``what`` names the server in the text ("ngrok agent API")."""
    try:
        async with ctx.http.get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            body = await read_capped(response.content, _AGENT_BODY)
            return response.status, body.decode(response.charset or "utf-8", "replace")
    except TimeoutError:
        raise AgentUnreachable(f"{what} {url} did not answer") from None
    except aiohttp.ClientConnectorError as exc:
        raise AgentUnreachable(f"{what} {url}: {os_reason(exc.os_error)}") from None
    except aiohttp.ClientError as exc:
        raise AgentUnreachable(f"{what} {url} failed: {exc}") from None


def parse_json(body: str, url: str, what: str) -> Any:
    """The JSON document of an agent's answer; AgentUnreachable when it is not JSON."""
    try:
        return json.loads(body)
    except ValueError:
        raise AgentUnreachable(f"{what} {url} did not answer JSON: {body[:100]!r}") from None


def component_note(component: str | None) -> str:
    """The clause that names the component running the agent, for the incident's summary."""
    return f" [component {component}: selfreg restarts it when it exits]" if component else ""
