"""What every Fly action shares: its config keys, the API client, the words for a failure.

A Fly action acts on one app named in its own entry, through ``checks.fly_api`` (the client
the ``fly`` check uses). Machine ids come from config or from the incident's subject (which the
fly check wrote from Fly's own answer), never from Slack text, and are checked against the id
pattern before they go into a URL. Every mutation of a machine is made under its lease; a lease
someone else holds is a refusal ("nothing was changed"), never retried.
"""

from __future__ import annotations

import os

import aiohttp
from pydantic import Field

from actions.base import Action, ActionContext, ActionResult, ActionSpec
from checks.fly_api import (
    FlyAccess,
    FlyApi,
    FlyConflict,
    FlyError,
    FlyLeaseHeld,
    FlyNotFound,
    FlyRateLimited,
    FlyUnauthorized,
    FlyWaitTimeout,
)
from checks.fly_machines import GONE, Machine, parse
from common.units import Duration, format_duration


class FlyActionSpec(ActionSpec, FlyAccess):
    """The keys every Fly action's entry has."""

    app: str = Field(min_length=1, description="The Fly app acted on.")
    lease_ttl: Duration = Field(
        default=60.0, ge=1, description="How long a machine lease is taken for."
    )
    wait_timeout: Duration = Field(
        default=60.0, gt=0, description="How long to wait for a machine to reach its state."
    )
    timeout: Duration = Field(
        default=180.0, gt=0, description="How long one run may take, waits included."
    )


class FlyRefused(Exception):
    """The action will not or cannot act (no token, nothing to clone ...); the text says why
    and that nothing was changed."""


class FlyAction(Action):
    """Base of the Fly action kinds: the client and the failure words."""

    Spec: type[FlyActionSpec]

    def __init__(self, spec: FlyActionSpec) -> None:
        super().__init__(spec)
        self.spec: FlyActionSpec = spec

    def api(self, ctx: ActionContext) -> FlyApi:
        """A client for the configured app; ``FlyRefused`` when the token is missing."""
        spec = self.spec
        token = os.environ.get(spec.token_env, "").strip()
        if not token:
            raise FlyRefused(f"{spec.token_env} is not set; nothing was changed")
        return FlyApi(
            ctx.http, app=spec.app, token=token, base_url=spec.base_url, timeout=spec.wait_timeout
        )

    async def machines(self, api: FlyApi, group: str | None) -> list[Machine]:
        """The app's live machines, of ``group`` when one is given."""
        found = [m for m in map(parse, await api.machines()) if m.state not in GONE]
        return [m for m in found if not group or m.process_group == group]

    async def act(self, api: FlyApi, ctx: ActionContext, dry_run: bool) -> ActionResult:
        """The kind's own work with a client (or, with ``dry_run``, what it would do)."""
        raise NotImplementedError

    async def execute(self, ctx: ActionContext, *, dry_run: bool) -> ActionResult:
        """``act`` with a client; any Fly failure or refusal becomes a failed result in words."""
        try:
            return await self.act(self.api(ctx), ctx, dry_run)
        except FlyRefused as exc:
            return ActionResult(ok=False, summary=str(exc))
        except (FlyError, aiohttp.ClientError, TimeoutError) as exc:
            return ActionResult(ok=False, summary=self.failure(exc))

    def failure(self, exc: BaseException) -> str:
        """A failed call in words for the thread (Fly's own text is shown, never matched)."""
        spec = self.spec
        if isinstance(exc, FlyLeaseHeld):
            return (
                f"refused: the machine's lease is held by someone else ({exc}); nothing was changed"
            )
        if isinstance(exc, FlyUnauthorized):
            return f"Fly rejected {spec.token_env} for app {spec.app} (HTTP {exc.status})"
        if isinstance(exc, FlyNotFound):
            return f"Fly has no such app or machine in {spec.app} ({exc})"
        if isinstance(exc, FlyWaitTimeout):
            waited = format_duration(spec.wait_timeout)
            return f"the machine did not reach its state within {waited}"
        if isinstance(exc, FlyConflict):
            return f"Fly refused: {exc}"
        if isinstance(exc, FlyRateLimited):
            return f"Fly rate-limited the request (retry after {exc.retry_after:g}s)"
        if isinstance(exc, FlyError):
            return f"Fly API: HTTP {exc.status}: {exc}"
        if isinstance(exc, TimeoutError):
            return "the Fly API did not answer in time"
        return f"Fly API unreachable: {type(exc).__name__}"


def require_full_configs(machines: list[Machine]) -> None:
    """``FlyRefused`` when Fly sent any of ``machines`` without its full config (its host
    unreachable): a config written back from a partial one would lose the rest; checked before
    the first change, so the refusal means nothing was changed."""
    partial = [f"{m.id} (host {m.host_status})" for m in machines if not m.complete]
    if partial:
        raise FlyRefused(
            f"Fly sent no full config for machine {', '.join(partial)}, and a machine's config "
            "is only written back whole; nothing was changed"
        )


async def update_config(
    api: FlyApi, machine: Machine, config: dict[str, object], ttl: float, why: str
) -> None:
    """POST a machine's full new config under its lease (Fly takes no partial update), then
    wait until it runs again when it was running."""
    async with api.lease(machine.id, why, int(ttl)) as nonce:
        await api.post(
            machine.id, "", nonce, {"config": config, "current_version": machine.instance_id}
        )
    if machine.state == "started":
        await api.wait(machine.id, "started", api.timeout)
