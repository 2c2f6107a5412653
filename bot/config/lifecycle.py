"""The ``[reload]`` and ``[heartbeat]`` sections: how selfreg follows its config file, and how
it tells a dead-man's switch that it is alive.

A module of its own like ``alerts``; ``schema`` assembles the whole file.
The heartbeat URL itself is a secret-ish value and comes only from ``SELFREG_HEARTBEAT_URL``.
"""

from __future__ import annotations

from pydantic import Field

from bot.config.base import Section
from common.units import Duration


class ReloadSettings(Section):
    """``[reload]``: follow the config file on disk (SIGHUP and /selfreg reload work either way)."""

    watch: bool = Field(
        default=True,
        description="Reload when the config file (or its SELFREG_ENV overlay) changes on disk.",
    )
    poll_every: Duration = Field(
        default=2.0,
        gt=0,
        description="How often the files' modification time and size are compared.",
    )


class HeartbeatSettings(Section):
    """``[heartbeat]``: GET SELFREG_HEARTBEAT_URL (a dead-man's switch); URL/fail while /health fails."""

    # Without the variable nothing is sent. ``/fail`` is the healthchecks.io convention: the
    # switch hears of a sick selfreg at once instead of after its grace time.

    every: Duration = Field(default=60.0, gt=0, description="Time between two pings.")
    timeout: Duration = Field(
        default=10.0, gt=0, description="How long one ping may take before it counts as failed."
    )
