"""The ``http`` kind's config entry, apart from its runtime code (``checks.http``): validating
a config reads this module only, so it imports no aiohttp (``common.plugins``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from checks.base import CheckSpec, Regex, Threshold
from checks.thresholds import DurationThreshold


class JsonExpectation(BaseModel):
    """A JSON field that must be present, and optionally equal a value."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="Dotted path into the JSON body, e.g. 'checks.db.status'.")
    equals: Any = Field(
        default=None, description="The value it must equal; omit to only require it."
    )


class HttpSpec(CheckSpec):
    """An ``[[checks]]`` entry of kind ``http``."""

    kind: Literal["http"]
    url: str = Field(pattern=r"^https?://", description="The URL to request.")
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    headers: dict[str, str] = Field(default_factory=dict, description="Request headers.")
    body: str | None = Field(default=None, description="Request body, sent as is.")
    expect_status: list[int] = Field(
        default_factory=list, description="Accepted status codes; default any 2xx or 3xx."
    )
    body_regex: Regex | None = Field(default=None, description="A regex the body must match.")
    json_field: JsonExpectation | None = Field(
        default=None, description="A JSON field the body must hold."
    )
    latency: DurationThreshold = Field(
        default_factory=DurationThreshold, description="Latency limits (to the full body)."
    )
    follow_redirects: bool = Field(default=True, description="Follow 3xx redirects.")
    verify_tls: bool = Field(default=True, description="Verify the server's certificate.")
    ca_file: str | None = Field(
        default=None, description="PEM file of the CA to trust (an internal CA), else the system's."
    )
    cert_expiry_days: Threshold = Field(
        default_factory=lambda: Threshold(warn=14, critical=7),
        description="Days left on an https certificate: at or below warn / critical.",
    )

    @field_validator("ca_file")
    @classmethod
    def _ca_file_exists(cls, value: str | None) -> str | None:
        if value is not None and not Path(value).is_file():
            raise ValueError("no such file")
        return value
