"""The ``[[components]]`` section: the programs selfreg starts, keeps running and checks ready."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from bot import messages
from bot.config.base import Section
from common.units import Duration, Size


class HealthSettings(Section):
    """How selfreg decides a component is ready: exactly one of ``http``, ``tcp``, ``process``.

    It only decides "ready" after a start; whether a running component stays healthy is the
    job of ``[[checks]]``.
    """

    http: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="Ready when a GET of this URL answers 2xx or 3xx.",
    )
    tcp: str | None = Field(
        default=None,
        pattern=r"^\S+:\d{1,5}$",
        description="Ready when this host:port accepts a connection.",
    )
    process: bool = Field(default=False, description="Ready as soon as the process runs.")
    timeout: Duration = Field(
        default=30.0,
        gt=0,
        description="How long a start may take to become ready; then it is recorded as "
        "unready and the start goes on.",
    )

    @model_validator(mode="after")
    def _exactly_one_probe(self) -> HealthSettings:
        chosen = [k for k in ("http", "tcp") if getattr(self, k) is not None]
        if self.process:
            chosen.append("process")
        if len(chosen) != 1:
            raise ValueError(messages.one_health_probe())
        return self


class CrashLoopSettings(Section):
    """When a component exits this often, selfreg stops restarting it and asks a person."""

    exits: int = Field(default=5, ge=1, description="Exits within the window.")
    window: Duration = Field(default=60.0, gt=0, description="The window.")


class ComponentSettings(Section):
    """``[[components]]``: a program selfreg starts and keeps running."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Unique name.")
    command: list[str] = Field(
        min_length=1,
        description="argv list, never a shell string; a first word 'python' means the "
        "interpreter selfreg runs on.",
    )
    cwd: str | None = Field(
        default=None,
        description="Working folder, relative to the config file's folder (default: that folder).",
    )
    env: dict[str, str] = Field(
        default_factory=dict,
        description="Extra environment; selfreg's own variables (tokens) are not passed on.",
    )
    instances: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Copies to run (workers); each gets SELFREG_INSTANCE=0, 1, ...",
    )
    restart: Literal["always", "on-failure", "never"] = Field(
        default="on-failure", description="When an exited component is started again."
    )
    restart_delay: Duration = Field(
        default=1.0,
        ge=0,
        description="The first restart is at once; a second quick exit waits this long, "
        "doubling per quick exit up to restart_backoff_max.",
    )
    restart_backoff_max: Duration = Field(
        default=30.0, ge=0, description="The longest wait before a restart."
    )
    stable_after: Duration = Field(
        default=10.0,
        gt=0,
        description="Up this long, an exit counts as fresh: the next restart is at once again.",
    )
    crash_loop: CrashLoopSettings = Field(
        default_factory=CrashLoopSettings,
        description="Exits within a window that stop the automatic restarts.",
    )
    health: HealthSettings | None = Field(
        default=None,
        description='Decides "ready" (none: running is ready); e.g. '
        '{ http = "http://127.0.0.1:5051/health" } or { tcp = "127.0.0.1:5051" }.',
    )
    stop_timeout: Duration = Field(
        default=10.0, gt=0, description="Wait after SIGTERM before SIGKILL."
    )
    log_max_bytes: Size = Field(
        default=10_000_000.0,
        gt=0,
        description="Output goes to <data>/logs/<name>.log; rotated past this size.",
    )
    log_keep: int = Field(
        default=5, ge=1, description="Rotated log files kept (<name>.log.1 is the newest)."
    )
