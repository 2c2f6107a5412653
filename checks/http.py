"""``http``: one request to a URL, judged on status, body, latency and certificate expiry."""

from __future__ import annotations

import functools
import json
import re
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from checks.base import Check, CheckContext, Observation, Status
from checks.certificates import CertificateWatch
from checks.http_spec import HttpSpec, JsonExpectation
from checks.thresholds import describe_ms, os_reason

_MAX_BODY = 1 << 20  # read at most 1 MiB of a body: enough for any health document


@functools.cache
def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """One verifying context per CA file, shared by every check that names it."""
    return ssl.create_default_context(cafile=ca_file)


def _json_lookup(document: Any, path: str) -> tuple[bool, Any]:
    """Follow a dotted path (list indexes as numbers); (found, value)."""
    node = document
    for part in path.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


class HttpCheck(Check):
    """Request a URL once; critical on a refused connection, wrong status or body."""

    Spec = HttpSpec

    def __init__(self, spec: HttpSpec) -> None:
        super().__init__(spec)
        self.spec: HttpSpec = spec
        self._regex = re.compile(spec.body_regex) if spec.body_regex else None
        self._expected = set(spec.expect_status)
        # True: aiohttp's own verifying context, so every check shares one connection pool
        # (aiohttp keys its pools by the ssl argument, and a context costs ~50 ms and ~1 MB).
        self._ssl: ssl.SSLContext | bool = True
        self._certificate: CertificateWatch | None = None
        if spec.url.startswith("https://"):
            if not spec.verify_tls:
                self._ssl = False
            else:
                context = tls_context(spec.ca_file)
                if spec.ca_file:
                    self._ssl = context
                self._certificate = CertificateWatch(spec.url, context)
        # Answer before the engine's timeout does, so a silent server reads as a failure
        # of the endpoint (critical), not as a check that could not tell (unknown).
        self._timeout = aiohttp.ClientTimeout(total=max(spec.run_timeout * 0.9, 0.05))
        self._headers = spec.headers or None  # none: no headers mapping to build each run
        self._kept_alive = False  # whether the last answer left its connection open
        self._server = server_of(spec.url)

    @property
    def server(self) -> str | None:
        """The URL's host and port, unless the last answer kept its connection open for the
        next run to reuse."""
        return None if self._kept_alive else self._server

    async def run(self, ctx: CheckContext) -> list[Observation]:
        spec = self.spec
        started = time.perf_counter()
        self._kept_alive = False
        try:
            async with ctx.http.request(
                spec.method,
                spec.url,
                headers=self._headers,
                data=spec.body,
                allow_redirects=spec.follow_redirects,
                timeout=self._timeout,
                ssl=self._ssl,
            ) as response:
                body = await response.content.read(_MAX_BODY)
                code = response.status
                self._kept_alive = _keeps_alive(response)
        except TimeoutError:
            return [
                self._fail(
                    ctx, f"no answer from {spec.url} within {describe_ms(self._timeout.total or 0)}"
                )
            ]
        except aiohttp.ClientConnectorCertificateError as exc:
            reason = getattr(exc.certificate_error, "verify_message", None) or exc.certificate_error
            return [self._fail(ctx, f"TLS certificate of {spec.url} is not trusted: {reason}")]
        except aiohttp.ClientConnectorError as exc:
            return [self._fail(ctx, f"cannot connect to {spec.url}: {os_reason(exc.os_error)}")]
        except aiohttp.ClientError as exc:
            return [
                self._fail(ctx, f"request to {spec.url} failed: {exc.__class__.__name__}: {exc}")
            ]
        latency = time.perf_counter() - started
        values = {"latency": latency, "status_code": float(code)}
        problems = self._problems(code, body, latency)
        if self._certificate is not None:
            cert_days = await self._certificate.days_left(ctx.now(), self._timeout.total or 1.0)
            if cert_days is not None:
                values["cert_days"] = cert_days
                cert_status = spec.cert_expiry_days.status(cert_days, below=True)
                if cert_status is not Status.OK:
                    problems.append((cert_status, f"certificate expires in {cert_days:.0f} days"))
        status = Status.worst([s for s, _ in problems])
        return [self.observe(ctx, status, _summary(code, latency, problems), values)]

    def _problems(self, code: int, body: bytes, latency: float) -> list[tuple[Status, str]]:
        """What is wrong with an answer: its status, body and latency (not its certificate)."""
        spec = self.spec
        problems: list[tuple[Status, str]] = []
        if (code not in self._expected) if self._expected else not 200 <= code < 400:
            problems.append((Status.CRITICAL, f"HTTP {code} from {spec.url}"))
        if self._regex and not self._regex.search(body.decode("utf-8", "replace")):
            problems.append((Status.CRITICAL, f"body does not match /{spec.body_regex}/"))
        if spec.json_field is not None:
            problems.extend(self._json_problems(body, spec.json_field))
        latency_status = spec.latency.status(latency)
        if latency_status is not Status.OK:
            limit = (
                spec.latency.critical if latency_status is Status.CRITICAL else spec.latency.warn
            )
            problems.append(
                (
                    latency_status,
                    f"latency {describe_ms(latency)} ({latency_status} > {describe_ms(limit or 0)})",
                )
            )
        return problems

    def _fail(self, ctx: CheckContext, summary: str) -> Observation:
        return self.observe(ctx, Status.CRITICAL, summary, {"up": 0.0})

    @staticmethod
    def _json_problems(body: bytes, expect: JsonExpectation) -> list[tuple[Status, str]]:
        try:
            document = json.loads(body)
        except ValueError:
            return [(Status.CRITICAL, "body is not JSON")]
        found, value = _json_lookup(document, expect.path)
        if not found:
            return [(Status.CRITICAL, f"JSON field {expect.path} is missing")]
        if expect.equals is not None and value != expect.equals:
            return [
                (
                    Status.CRITICAL,
                    f"JSON field {expect.path} is {value!r}, expected {expect.equals!r}",
                )
            ]
        return []


def server_of(url: str) -> str:
    """``host:port`` of ``url``, the port its scheme implies when it names none."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"


def _keeps_alive(response: aiohttp.ClientResponse) -> bool:
    """Whether the server keeps the connection open after this answer (HTTP/1.1 unless it
    says close; HTTP/1.0 only if it says keep-alive)."""
    connection = response.headers.get("Connection", "").lower()
    if response.version < aiohttp.HttpVersion11:
        return "keep-alive" in connection
    return "close" not in connection


def _summary(code: int, latency: float, problems: list[tuple[Status, str]]) -> str:
    """``HTTP 200 in 12 ms`` when all is well, else the problems, led by the status line unless
    the first problem is the status itself."""
    head = f"HTTP {code} in {describe_ms(latency)}"
    summary = "; ".join(text for _, text in problems) if problems else head
    if problems and not summary.startswith("HTTP"):
        summary = f"{head}: {summary}"
    return summary
