"""``prometheus``: one PromQL instant query, one observation per series it returns.

The query is POSTed to ``/api/v1/query`` (form-encoded, so a long query never meets a URL
limit) with the configured ``timeout`` handed to Prometheus as well. Each series of a vector
becomes an observation whose subject is its labels (``instance=10.0.0.1:9100,job=api``, in
Prometheus's own sorted order, ``__name__`` left out) and whose value is judged on the
warn / critical thresholds and recorded as a metric, so the anomaly and forecast models see it
like any other. The subject "" is the query itself: ok with the number of series (or the
``empty`` status when there are none), ``unknown`` when it failed; a series the previous
answer had and this one lacks is reported ok once ("no longer returned"), so a query that
returns only bad series (``up == 0``) resolves what it opened. A scalar, or a series with no
labels (``sum(...)``), is the one observation on the subject "". Whatever keeps Prometheus
from answering the question (a parse error, an execution error, its own timeout, a partial
answer carrying ``warnings``) is ``unknown`` with Prometheus's own words: the check could not
tell. ``infos`` are only notes and are appended to the summary.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import aiohttp
from pydantic import Field

from checks.base import Check, CheckContext, CheckSpec, Observation, Status, Threshold
from checks.bodies import read_capped
from checks.thresholds import describe_ms, os_reason

SERIES = "series"
"""The state key holding the subjects of the last answer's series."""

_MAX_BODY = 8 << 20  # a query answer bigger than 8 MiB is a query to narrow, not to read


class PrometheusSpec(CheckSpec):
    """An ``[[checks]]`` entry of kind ``prometheus``."""

    kind: Literal["prometheus"]
    url: str = Field(
        pattern=r"^https?://\S+$",
        description="Prometheus's base URL, e.g. http://127.0.0.1:9090 (the API path is added).",
    )
    query: str = Field(min_length=1, description="The PromQL instant query.")
    token_env: str | None = Field(
        default=None,
        description="Environment variable holding a bearer token for Prometheus (or the proxy "
        "in front of it); none: no Authorization header.",
    )
    threshold: Threshold = Field(
        default_factory=Threshold, description="Warn / critical limits on each series' value."
    )
    below: bool = Field(
        default=False, description="true: a value at or below the limits is bad (e.g. up == 0)."
    )
    metric: str = Field(
        default="value",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="The name each value is recorded under (what the models and /metrics see).",
    )
    subject_labels: list[str] = Field(
        default_factory=list,
        description="Labels that make a series' subject, in this order; default all but __name__.",
    )
    empty: Literal["ok", "warning", "critical", "unknown"] = Field(
        default="ok", description="The status when the query returns no series."
    )


class PrometheusCheck(Check):
    """Ask Prometheus one instant query; judge every series it returns."""

    Spec = PrometheusSpec

    def __init__(self, spec: PrometheusSpec) -> None:
        super().__init__(spec)
        self.spec: PrometheusSpec = spec
        self._endpoint = spec.url.rstrip("/") + "/api/v1/query"
        # Prometheus stops the query at 80 % of the run's time, so its own timeout text comes
        # back (unknown, with its words) before ours would cut the request short.
        self._query_timeout = max(spec.run_timeout * 0.8, 0.05)
        self._timeout = aiohttp.ClientTimeout(total=max(spec.run_timeout * 0.9, 0.05))

    async def run(self, ctx: CheckContext) -> list[Observation]:
        spec = self.spec
        headers = {"Accept": "application/json"}
        if spec.token_env:
            token = os.environ.get(spec.token_env, "").strip()
            if not token:
                return [self.observe(ctx, Status.UNKNOWN, f"{spec.token_env} is not set")]
            headers["Authorization"] = f"Bearer {token}"
        form = {"query": spec.query, "timeout": f"{max(int(self._query_timeout * 1000), 1)}ms"}
        try:
            async with ctx.http.post(
                self._endpoint, data=form, headers=headers, timeout=self._timeout
            ) as response:
                code = response.status
                body = await read_capped(response.content, _MAX_BODY)
        except TimeoutError:
            return [self._unknown(ctx, f"no answer within {describe_ms(self._timeout.total or 0)}")]
        except aiohttp.ClientConnectorError as exc:
            return [self._unknown(ctx, f"cannot connect: {os_reason(exc.os_error)}")]
        except aiohttp.ClientError as exc:
            return [self._unknown(ctx, f"request failed: {exc.__class__.__name__}: {exc}")]
        return self.judge(ctx, code, body)

    def judge(self, ctx: CheckContext, code: int, body: bytes) -> list[Observation]:
        """The observations for one answer (its HTTP status and body)."""
        envelope = parse_envelope(code, body)
        if isinstance(envelope, str):
            return [self._unknown(ctx, envelope)]
        warnings = [str(w) for w in envelope.get("warnings") or []]
        if warnings:
            return [self._unknown(ctx, "partial answer: " + "; ".join(warnings))]
        infos = "; ".join(str(i) for i in envelope.get("infos") or [])
        data = envelope.get("data") or {}
        kind, result = data.get("resultType"), data.get("result")
        if kind == "scalar" and isinstance(result, list):
            return [self._one(ctx, "", result, infos)]
        if kind != "vector" or not isinstance(result, list):
            return [self._unknown(ctx, f"expected a vector or scalar result, got {kind}")]
        series = [self._one(ctx, self.subject(s.get("metric") or {}), s.get("value"), infos)
                  for s in result]  # fmt: skip
        count = len(series)
        status = Status(self.spec.empty) if not series else Status.OK
        summary = f"{count} series" if series else "no series"
        query = self.observe(ctx, status, _with_infos(summary, infos), {"series": float(count)})
        gone = self._gone(ctx, {o.subject for o in series})
        if any(o.subject == "" for o in series):  # a series without labels stands for the query
            return [*series, *gone]
        return [query, *series, *gone]

    def _gone(self, ctx: CheckContext, now_seen: set[str]) -> list[Observation]:
        """An ok observation for each series the last answer had and this one has not (a
        query such as ``up == 0`` returns only the bad ones: its incidents must resolve)."""
        before = set(ctx.state.get(SERIES, []))
        ctx.state.set(SERIES, sorted(now_seen))
        return [
            self.observe(ctx, Status.OK, "no longer returned by the query", subject=subject)
            for subject in sorted(before - now_seen)
        ]

    def subject(self, labels: Mapping[str, str]) -> str:
        """A series' subject: its labels as ``name=value`` pairs, ``__name__`` left out."""
        names = self.spec.subject_labels or sorted(k for k in labels if k != "__name__")
        return ",".join(f"{name}={labels.get(name, '')}" for name in names)

    def _one(self, ctx: CheckContext, subject: str, sample: Any, infos: str) -> Observation:
        value = sample_value(sample)
        if value is None or math.isnan(value):
            summary = _with_infos(f"{self.spec.metric} is not a number ({sample!r})", infos)
            return self.observe(ctx, Status.UNKNOWN, summary, subject=subject)
        threshold = self.spec.threshold
        status = threshold.status(value, below=self.spec.below)
        summary = f"{self.spec.metric} {_number(value)}"
        if status is not Status.OK:
            limit = threshold.critical if status is Status.CRITICAL else threshold.warn
            side = "at or below" if self.spec.below else "at or above"
            summary += f" ({status}: {side} {_number(limit or 0.0)})"
        values = {self.spec.metric: value} if math.isfinite(value) else {}
        return self.observe(ctx, status, _with_infos(summary, infos), values, subject=subject)

    def _unknown(self, ctx: CheckContext, why: str) -> Observation:
        return self.observe(ctx, Status.UNKNOWN, f"Prometheus query failed: {why}")


def parse_envelope(code: int, body: bytes) -> dict[str, Any] | str:
    """The API's JSON envelope of a success, else the reason to show (Prometheus's own
    ``errorType`` and ``error`` when it gave them; the HTTP status and body start otherwise,
    e.g. from a proxy in front of it)."""
    try:
        envelope = json.loads(body)
    except ValueError:
        envelope = None
    if not isinstance(envelope, dict):
        text = " ".join(body[:200].decode("utf-8", "replace").split())
        return f"HTTP {code}: {text}" if text else f"HTTP {code}"
    if envelope.get("status") != "success":
        kind = envelope.get("errorType") or "error"
        return f"{kind} (HTTP {code}): {envelope.get('error') or 'no error text'}"
    return envelope


def sample_value(sample: Any) -> float | None:
    """The number in a ``[time, "value"]`` pair (``NaN``, ``+Inf`` and ``-Inf`` included)."""
    if not isinstance(sample, Sequence) or len(sample) != 2:
        return None
    try:
        return float(sample[1])
    except (TypeError, ValueError):
        return None


def _number(value: float) -> str:
    return f"{value:g}"


def _with_infos(summary: str, infos: str) -> str:
    return f"{summary} (Prometheus notes: {infos})" if infos else summary
