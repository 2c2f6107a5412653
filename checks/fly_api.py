"""A small client of the Fly.io Machines API, shared by the ``fly`` check and the Fly actions.

Only what selfreg needs: list and read machines, start / stop / restart them, update a
machine's config (vertical scale, rollback), create and destroy machines (scale count), wait
for a state, and take and release a machine lease. Every call has a deadline; a 429 is
retried after its ``Retry-After`` while the deadline allows, once or twice, never in a loop.
The error types key on the HTTP status only: Fly's error texts are not a stable interface
(NOTES.md 1.4), so they are shown to people but never matched.

The token is read from the environment by the caller and kept only in the request header:
no message, exception or log line of this module carries it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote

import aiohttp
from pydantic import BaseModel, ConfigDict, Field

DEFAULT_BASE_URL = "https://api.machines.dev/v1"
LEASE_HEADER = "fly-machine-lease-nonce"
_MACAROON_MARKS = ("fm1r_", "fm1a_", "fm2_")
_RATE_LIMIT_TRIES = 3
_WAIT_CAP = 60  # the /wait endpoint's own maximum, in seconds


class FlyAccess(BaseModel):
    """The keys every Fly entry (the check and each action) has: where the API is, and which
    environment variable holds the token."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(
        default=DEFAULT_BASE_URL,
        pattern=r"^https?://\S+$",
        description="The Machines API's base URL, /v1 included.",
    )
    token_env: str = Field(
        default="FLY_API_TOKEN",
        description="The environment variable holding the Fly token (Bearer or FlyV1 form).",
    )


def authorization(secret: str) -> str:
    """The Authorization header for a configured token, whichever form was pasted.

    A leading ``FlyV1 `` or ``Bearer `` is dropped; macaroon tokens (``fm1r_``, ``fm1a_``,
    ``fm2_``) are sent as ``FlyV1``, every other token as ``Bearer``, as fly-go does."""
    token = secret.strip()
    for scheme in ("FlyV1 ", "Bearer "):
        if token.startswith(scheme):
            token = token[len(scheme) :].strip()
    scheme = "FlyV1" if any(mark in token for mark in _MACAROON_MARKS) else "Bearer"
    return f"{scheme} {token}"


class FlyError(Exception):
    """A Machines API call failed; ``status`` is the HTTP status (0: no answer)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class FlyUnauthorized(FlyError):
    """401: Fly refused the token."""


class FlyNotFound(FlyError):
    """404: no such app or machine (for this token)."""


class FlyConflict(FlyError):
    """409: the machine is not in a state the request needs (start of a started one ...)."""


class FlyLeaseHeld(FlyConflict):
    """409 on a lease request: someone else (a deploy, another selfreg) holds the machine."""


class FlyRateLimited(FlyError):
    """429 whose ``Retry-After`` would outlast the call's deadline."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(429, f"Fly rate-limited the request; retry after {retry_after:g}s")
        self.retry_after = retry_after


class FlyWaitTimeout(FlyError):
    """408 from the wait endpoint until the deadline: the machine did not reach the state."""


def _message(body: Any, status: int) -> str:
    """Fly's own words for an error (``error``, or ``message`` of the lease envelope)."""
    if isinstance(body, Mapping):
        for key in ("error", "message"):
            if isinstance(body.get(key), str) and body[key]:
                return str(body[key])
    return f"HTTP {status}"


def _retry_after(headers: Mapping[str, str]) -> float:
    """Seconds from a ``Retry-After`` header (seconds form); 1 s when absent or unreadable."""
    try:
        return max(0.0, float(headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


class FlyApi:
    """Machines API calls for one app, each bounded by ``timeout`` seconds."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        *,
        app: str,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 30.0,
    ) -> None:
        self.http = http
        self.app = app
        self.base = base_url.rstrip("/")
        self.timeout = timeout
        self._auth = authorization(token)

    def _url(self, path: str) -> str:
        return f"{self.base}/apps/{quote(self.app, safe='')}{path}"

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, str] | None = None,
        nonce: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """One request; the decoded JSON body of a 2xx, else the matching ``FlyError``."""
        limit = timeout if timeout is not None else self.timeout
        deadline = time.monotonic() + limit
        headers = {"Authorization": self._auth}
        if nonce is not None:
            headers[LEASE_HEADER] = nonce
        for attempt in range(_RATE_LIMIT_TRIES):
            left = deadline - time.monotonic()
            status, answer, retry = await self._send(method, path, body, params, headers, left)
            if status != 429:
                return _result(status, answer)
            if attempt == _RATE_LIMIT_TRIES - 1 or retry >= deadline - time.monotonic():
                raise FlyRateLimited(retry)
            await asyncio.sleep(retry)
        raise FlyRateLimited(0.0)  # not reached: the loop returns or raises

    async def _send(
        self,
        method: str,
        path: str,
        body: Any,
        params: Mapping[str, str] | None,
        headers: Mapping[str, str],
        left: float,
    ) -> tuple[int, Any, float]:
        """(status, decoded body or None, Retry-After seconds) of one request."""
        if left <= 0:
            raise TimeoutError
        async with self.http.request(
            method,
            self._url(path),
            json=body,
            params=params,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=left),
        ) as response:
            try:
                answer = await response.json(content_type=None)
            except ValueError:
                answer = None
            return response.status, answer, _retry_after(response.headers)

    # ---- reads ----------------------------------------------------------------------------
    async def machines(self) -> list[dict[str, Any]]:
        """Every machine of the app (a bare JSON array)."""
        answer = await self.call("GET", "/machines")
        return [m for m in answer if isinstance(m, dict)] if isinstance(answer, list) else []

    async def machine(self, machine_id: str) -> dict[str, Any]:
        answer = await self.call("GET", f"/machines/{quote(machine_id, safe='')}")
        return answer if isinstance(answer, dict) else {}

    # ---- mutations (inside a lease: pass its nonce) --------------------------------------
    async def post(self, machine_id: str, verb: str, nonce: str | None, body: Any = None) -> Any:
        """``POST …/machines/{id}/{verb}`` (start, stop, restart), or the update itself when
        ``verb`` is empty (``body`` is then the full config envelope)."""
        suffix = f"/{verb}" if verb else ""
        return await self.call(
            "POST", f"/machines/{quote(machine_id, safe='')}{suffix}", body=body, nonce=nonce
        )

    async def create(self, body: Mapping[str, Any]) -> dict[str, Any]:
        answer = await self.call("POST", "/machines", body=dict(body))
        return answer if isinstance(answer, dict) else {}

    async def destroy(self, machine_id: str, nonce: str | None) -> None:
        await self.call(
            "DELETE",
            f"/machines/{quote(machine_id, safe='')}",
            params={"force": "true"},
            nonce=nonce,
        )

    async def wait(
        self, machine_id: str, state: str, within: float, instance_id: str | None = None
    ) -> None:
        """Wait until the machine is in ``state``: the wait endpoint, asked again after each
        408 until ``within`` seconds have passed, then ``FlyWaitTimeout``."""
        deadline = time.monotonic() + within
        while (left := deadline - time.monotonic()) > 0:
            params = {"state": state, "timeout": str(max(1, min(_WAIT_CAP, int(left))))}
            if instance_id:
                params["instance_id"] = instance_id
            try:
                await self.call(
                    "GET",
                    f"/machines/{quote(machine_id, safe='')}/wait",
                    params=params,
                    timeout=left + 5,
                )
                return
            except FlyWaitTimeout:
                # a pause, so a server answering 408 at once is not asked in a tight loop
                await asyncio.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        raise FlyWaitTimeout(408, f"machine {machine_id} did not reach {state}")

    @contextlib.asynccontextmanager
    async def lease(self, machine_id: str, description: str, ttl: int) -> AsyncIterator[str]:
        """Hold the machine's lease for the block; yields its nonce, always released."""
        path = f"/machines/{quote(machine_id, safe='')}/lease"
        try:
            answer = await self.call("POST", path, body={"ttl": ttl, "description": description})
        except FlyConflict as exc:
            raise FlyLeaseHeld(409, str(exc)) from None
        data = answer.get("data", {}) if isinstance(answer, dict) else {}
        nonce = str(data.get("nonce", ""))
        try:
            yield nonce
        finally:
            with contextlib.suppress(FlyError, aiohttp.ClientError, TimeoutError):
                await self.call("DELETE", path, nonce=nonce)


def _result(status: int, answer: Any) -> Any:
    """The body of a 2xx; otherwise the error class for the status."""
    if 200 <= status < 300:
        return answer
    message = _message(answer, status)
    kinds: dict[int, type[FlyError]] = {
        401: FlyUnauthorized,
        403: FlyUnauthorized,
        404: FlyNotFound,
        408: FlyWaitTimeout,
        409: FlyConflict,
    }
    raise kinds.get(status, FlyError)(status, message)
