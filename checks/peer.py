"""``peer``: another selfreg's health, read from its ``/status``, as one check on this side.

A ``[[peers]]`` entry is this check with its own table (``bot/config/schema.py`` moves it to
the checks). The check's status is the *link's*: reachable, our token taken, a document this
selfreg reads, clocks close enough. The peer's own failing checks and incidents are only
summarised in the line ("mobile: 11 ok, 1 critical — api-health failing for 4 min"): they stay
the peer's to alert on, so two selfregs sharing a Slack channel never post the same incident
twice. A peer that stops answering is critical here, and that opens an incident on this side.
"""

from __future__ import annotations

import os
import time
from typing import Any

import aiohttp

from checks.base import Check, CheckContext, Observation, Status
from checks.peer_spec import PeerSpec
from checks.peer_summary import Incompatible, read_document, summary_line, values
from checks.thresholds import describe_ms

DOWN = {"reachable": 0.0}


class PeerCheck(Check):
    """GET the peer's /status with its token and fold it into one observation."""

    Spec = PeerSpec

    def __init__(self, spec: PeerSpec) -> None:
        super().__init__(spec)
        self.spec: PeerSpec = spec

    async def run(self, ctx: CheckContext) -> list[Observation]:
        spec = self.spec
        headers = {"Accept": "application/json"}
        if spec.token_env:
            token = os.environ.get(spec.token_env)
            if not token:
                return self._down(ctx, Status.UNKNOWN, f"{spec.token_env} is not set")
            headers["Authorization"] = f"Bearer {token}"
        limit = max(spec.run_timeout * 0.9, 0.05)
        started, asked_at = time.perf_counter(), ctx.now()
        try:
            document = await self._fetch(ctx, headers, limit)
        except PeerDown as exc:
            return self._down(ctx, Status.CRITICAL, str(exc))
        round_trip = time.perf_counter() - started
        try:
            facts = read_document(document)
        except Incompatible as exc:
            return self._down(ctx, Status.CRITICAL, f"wrong version: {exc}")
        skew = float(document["at"]) - (asked_at + round_trip / 2)
        status = spec.clock_skew.status(abs(skew))
        line = summary_line(spec.name, facts, skew)
        return [self.observe(ctx, status, line, values(facts, skew, round_trip))]

    async def _fetch(self, ctx: CheckContext, headers: dict[str, str], limit: float) -> Any:
        """The peer's /status as parsed JSON; ``PeerDown`` with the reason otherwise."""
        url = self.spec.url.rstrip("/") + "/status"
        timeout = aiohttp.ClientTimeout(total=limit)
        try:
            async with ctx.http.get(url, headers=headers, timeout=timeout) as response:
                if response.status in (401, 403):
                    raise PeerDown(self._refused(response.status))
                if response.status != 200:
                    raise PeerDown(f"{url} answered HTTP {response.status}")
                try:
                    return await response.json(content_type=None)
                except ValueError:
                    raise PeerDown(f"wrong version: {url} did not answer JSON") from None
        except (aiohttp.ClientSSLError, aiohttp.ServerFingerprintMismatch) as exc:
            raise PeerDown(f"TLS error with {url}: {_tls_reason(exc)}") from None
        except TimeoutError:
            raise PeerDown(f"no answer from {url} within {describe_ms(limit)}") from None
        except aiohttp.ClientError as exc:
            raise PeerDown(f"cannot reach {url}: {_reason(exc)}") from None

    def _refused(self, status: int) -> str:
        where = self.spec.token_env or "token_env (none set)"
        return f"token refused (HTTP {status}): {where} must hold the peer's SELFREG_WEB_TOKEN"

    def _down(self, ctx: CheckContext, status: Status, reason: str) -> list[Observation]:
        return [self.observe(ctx, status, f"{self.spec.name}: {reason}", DOWN)]


class PeerDown(Exception):
    """The peer could not be read; the text is the summary's reason."""


def _tls_reason(exc: Exception) -> str:
    """ "certificate verify failed: self-signed certificate", or the TLS library's reason."""
    inner = getattr(exc, "certificate_error", None) or getattr(exc, "os_error", None) or exc
    verify = getattr(inner, "verify_message", None)
    if verify:
        return f"certificate verify failed: {verify}"
    reason = getattr(inner, "reason", None)
    if reason == "WRONG_VERSION_NUMBER":  # OpenSSL's words for an answer that is not TLS
        return "the peer did not answer in TLS (is it serving plain http://?)"
    return str(reason or inner or type(exc).__name__)


def _reason(exc: aiohttp.ClientError) -> str:
    inner = getattr(exc, "os_error", None)
    if isinstance(inner, OSError) and inner.errno:
        return os.strerror(inner.errno)
    return str(exc) or type(exc).__name__
