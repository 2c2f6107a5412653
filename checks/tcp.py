"""``tcp``: connect to host:port and time it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Literal

from pydantic import Field

from checks.base import Check, CheckContext, CheckSpec, Observation, Status
from checks.thresholds import DurationThreshold, describe_ms, os_reason


class TcpSpec(CheckSpec):
    """An ``[[checks]]`` entry of kind ``tcp``."""

    kind: Literal["tcp"]
    host: str = Field(default="127.0.0.1", description="Host name or address.")
    port: int = Field(ge=1, le=65535, description="TCP port.")
    connect_time: DurationThreshold = Field(
        default_factory=DurationThreshold, description="Connect-time limits."
    )


class TcpCheck(Check):
    """Open a TCP connection and close it; critical when it is refused or never completes."""

    Spec = TcpSpec

    def __init__(self, spec: TcpSpec) -> None:
        super().__init__(spec)
        self.spec: TcpSpec = spec

    @property
    def server(self) -> str | None:
        return f"{self.spec.host}:{self.spec.port}"

    async def run(self, ctx: CheckContext) -> list[Observation]:
        spec = self.spec
        target = f"{spec.host}:{spec.port}"
        limit = max(spec.run_timeout * 0.9, 0.05)
        started = time.perf_counter()
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(spec.host, spec.port), timeout=limit
            )
        except TimeoutError:
            return [
                self.observe(
                    ctx,
                    Status.CRITICAL,
                    f"no connection to {target} within {describe_ms(limit)}",
                    {"up": 0.0},
                )
            ]
        except OSError as exc:
            return [
                self.observe(
                    ctx,
                    Status.CRITICAL,
                    f"cannot connect to {target}: {os_reason(exc)}",
                    {"up": 0.0},
                )
            ]
        elapsed = time.perf_counter() - started
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        status = spec.connect_time.status(elapsed)
        summary = f"connected to {target} in {describe_ms(elapsed)}"
        return [self.observe(ctx, status, summary, {"up": 1.0, "connect_time": elapsed})]
