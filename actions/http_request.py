"""``http_request``: call one configured URL, such as a deploy hook or a cache-purge endpoint.

URL, method, headers and body are all written in config; a run sends exactly them. Redirects
are not followed (a hook that moved should be reconfigured, not chased), and the URL is shown
without its user info and query string, which is where tokens tend to sit.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from pydantic import Field, field_validator

from actions.base import Action, ActionContext, ActionResult, ActionSpec
from checks.thresholds import os_reason
from common.units import format_duration

KEEP_CHARS = 3000
_MAX_BODY = 64 * 1024  # read no more of an answer than the thread could usefully show


class HttpRequestSpec(ActionSpec):
    """An ``[[actions]]`` entry of kind ``http_request``."""

    kind: Literal["http_request"] = Field(description='Always "http_request".')
    url: str = Field(pattern=r"^https?://\S+$", description="The http or https URL to call.")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = Field(
        default="POST", description="The HTTP method."
    )
    headers: dict[str, str] = Field(default_factory=dict, description="Request headers, as is.")
    body: str | None = Field(default=None, description="Request body, sent as is (UTF-8).")
    expect_status: list[int] = Field(
        default_factory=list, description="Status codes that count as success; default any 2xx."
    )

    @field_validator("expect_status")
    @classmethod
    def _codes(cls, value: list[int]) -> list[int]:
        for code in value:
            if not 100 <= code <= 599:
                raise ValueError(f"{code} is not an HTTP status code")
        return value


def public_url(url: str) -> str:
    """The URL without user info, query or fragment: safe to show in a Slack thread."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def trim_head(data: bytes) -> str:
    """The first ``KEEP_CHARS`` characters of a response body, saying when more was cut."""
    text = data.decode("utf-8", "replace")
    if len(text) <= KEEP_CHARS:
        return text
    return f"{text[:KEEP_CHARS]}\n[… cut: the first {KEEP_CHARS:,} characters shown]"


class HttpRequest(Action):
    """Send the configured request once; ok when the status is an expected one."""

    Spec = HttpRequestSpec

    def __init__(self, spec: HttpRequestSpec) -> None:
        super().__init__(spec)
        self.spec: HttpRequestSpec = spec
        self._target = f"{spec.method} {public_url(spec.url)}"

    def describe(self) -> str:
        return self._target

    async def execute(self, ctx: ActionContext, *, dry_run: bool) -> ActionResult:
        spec = self.spec
        if dry_run:
            return ActionResult(ok=True, summary=f"would send {self._target}")
        data = b""
        try:
            async with ctx.http.request(
                spec.method,
                spec.url,
                headers=spec.headers,
                data=spec.body.encode() if spec.body is not None else None,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=spec.timeout),
            ) as response:
                code = response.status
                while len(data) < _MAX_BODY:
                    if not (chunk := await response.content.read(_MAX_BODY - len(data))):
                        break
                    data += chunk
        except TimeoutError:
            waited = format_duration(spec.timeout)
            return ActionResult(ok=False, summary=f"{self._target}: no answer within {waited}")
        except aiohttp.ClientConnectorError as exc:
            return ActionResult(ok=False, summary=f"{self._target}: {os_reason(exc.os_error)}")
        except aiohttp.ClientError as exc:
            return ActionResult(
                ok=False, summary=f"{self._target} failed: {type(exc).__name__}: {exc}"
            )
        ok = code in spec.expect_status if spec.expect_status else 200 <= code < 300
        ctx.logger.info("http_request %s: HTTP %s", spec.name, code)
        return ActionResult(
            ok=ok, summary=f"HTTP {code} from {self._target}", output=trim_head(data)
        )
