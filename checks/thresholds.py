"""Threshold models for the units operators write: ``latency = { warn = "300ms" }``."""

from __future__ import annotations

import os

from pydantic import Field

from checks.base import Threshold
from common.units import Duration, Percent, Size


class DurationThreshold(Threshold):
    """Warn / critical limits written as durations (``"300ms"``, ``"2s"``)."""

    warn: Duration | None = Field(default=None, description="At or past this duration: warning.")
    critical: Duration | None = Field(
        default=None, description="At or past this duration: critical."
    )


class PercentThreshold(Threshold):
    """Warn / critical limits written as percentages (``"80%"``)."""

    warn: Percent | None = Field(default=None, description="At or past this percentage: warning.")
    critical: Percent | None = Field(
        default=None, description="At or past this percentage: critical."
    )


class SizeThreshold(Threshold):
    """Warn / critical limits written as sizes (``"512MB"``)."""

    warn: Size | None = Field(default=None, description="At or past this size: warning.")
    critical: Size | None = Field(default=None, description="At or past this size: critical.")


def describe_ms(seconds: float) -> str:
    """Latency as operators read it: ``"41 ms"`` or ``"2.4 s"``."""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def os_reason(error: OSError) -> str:
    """The short reason of a socket error: ``"Connection refused"``, not asyncio's wrapper text."""
    if error.errno:
        return os.strerror(error.errno)
    return error.strerror or str(error) or type(error).__name__
