"""Fault and rate-limit injection for the Web API.

A test arms faults through the driver (`emu.fail`, `emu.delay`, `emu.rate_limit`); the server
asks this book, before running a method, whether the call should be delayed, refused or cut.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import shapes

log = logging.getLogger(__name__)

Predicate = Callable[[dict[str, Any]], bool]


@dataclass(kw_only=True, slots=True)
class Outcome:
    """What to answer instead of running the method; `drop` means close without a reply."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False


@dataclass(kw_only=True, slots=True)
class _Fault:
    method: str
    outcome: Outcome
    times: int | None
    when: Predicate | None

    def matches(self, method: str, args: dict[str, Any]) -> bool:
        if self.method not in (method, "*") or self.times == 0:
            return False
        if self.when is None:
            return True
        try:
            return bool(self.when(args))
        except Exception:
            log.exception("fault predicate for %s raised; treating it as no match", self.method)
            return False


@dataclass(kw_only=True, slots=True)
class _Delay:
    seconds: float
    times: int | None


@dataclass(kw_only=True, slots=True)
class _Bucket:
    rate: float
    burst: float
    tokens: float
    stamp: float


def _default_error(status: int) -> str:
    if status == 429:
        return "ratelimited"
    return "internal_error" if status >= 500 else "fatal_error"


def ratelimited(retry_after: int, status: int = 429, code: str = "ratelimited") -> Outcome:
    """The 429 reply (error_ratelimited_429.json) with its Retry-After header."""
    return Outcome(
        status=status, body=shapes.error(code), headers={"Retry-After": str(retry_after)}
    )


class FaultBook:
    """Armed faults, delays and token buckets; safe to arm from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        """Disarm everything."""
        with self._lock:
            self._faults: list[_Fault] = []
            self._delays: dict[str, _Delay] = {}
            self._reply_delays: dict[str, _Delay] = {}
            self._limits: dict[str, tuple[float, float, int]] = {}
            self._buckets: dict[tuple[str, str], _Bucket] = {}

    def fail(
        self,
        method: str,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int = 1,
        drop_connection: bool = False,
        times: int | None = 1,
        when: Predicate | None = None,
    ) -> None:
        """Arm a fault for the next `times` matching calls (None: every call)."""
        if status == 429:
            outcome = ratelimited(retry_after, code=error or "ratelimited")
        else:
            outcome = Outcome(status=status, body=shapes.error(error or _default_error(status)))
        outcome.drop = drop_connection
        with self._lock:
            self._faults.append(_Fault(method=method, outcome=outcome, times=times, when=when))

    def delay(self, method: str, seconds: float, times: int | None = None) -> None:
        """Add `seconds` of latency to the next `times` calls of `method` ("*": all)."""
        with self._lock:
            self._delays[method] = _Delay(seconds=seconds, times=times)

    def delay_reply(self, method: str, seconds: float, times: int | None = None) -> None:
        """Run the next `times` calls of `method` at once but answer `seconds` later: Slack
        has done the work when the caller stops waiting (or dies)."""
        with self._lock:
            self._reply_delays[method] = _Delay(seconds=seconds, times=times)

    def rate_limit(self, method: str, per_channel_per_sec: float, burst: int, status: int) -> None:
        """Token bucket keyed by (method, channel); `status` 200 answers `rate_limited`."""
        with self._lock:
            self._limits[method] = (per_channel_per_sec, float(burst), status)

    def delay_for(self, method: str, reply: bool = False) -> float:
        """Seconds to sleep before running this call (``reply``: after running it)."""
        with self._lock:
            delays = self._reply_delays if reply else self._delays
            entry = delays.get(method) or delays.get("*")
            if entry is None or entry.times == 0:
                return 0.0
            if entry.times is not None:
                entry.times -= 1
            return entry.seconds

    def fault_for(self, method: str, args: dict[str, Any]) -> Outcome | None:
        """The first armed fault matching this call, spending one of its uses."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, args):
                    if fault.times is not None:
                        fault.times -= 1
                    return fault.outcome
        return None

    def limit_for(self, method: str, args: dict[str, Any]) -> Outcome | None:
        """A refusal when the (method, channel) bucket is empty, else None (token taken)."""
        with self._lock:
            limit = self._limits.get(method)
            if limit is None:
                return None
            rate, burst, status = limit
            key = (method, str(args.get("channel") or ""))
            now = time.monotonic()
            bucket = self._buckets.setdefault(
                key, _Bucket(rate=rate, burst=burst, tokens=burst, stamp=now)
            )
            bucket.tokens = min(bucket.burst, bucket.tokens + (now - bucket.stamp) * bucket.rate)
            bucket.stamp = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return None
            wait = max(1, math.ceil((1.0 - bucket.tokens) / bucket.rate))
            if status == 429:
                return ratelimited(wait)
            return ratelimited(wait, status=status, code="rate_limited")
