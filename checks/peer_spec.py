"""The ``peer`` kind's config entry (``[[peers]]``), apart from its runtime code
(``checks.peer``): validating a config reads this module only, so it imports no aiohttp."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from yarl import URL

from checks.base import CheckSpec
from checks.thresholds import DurationThreshold
from common.units import Duration


class PeerSpec(CheckSpec):
    """A ``[[peers]]`` entry (or a ``[[checks]]`` entry of kind ``peer``)."""

    kind: Literal["peer"] = "peer"
    url: str = Field(
        pattern=r"^https?://", description="The peer's web address, e.g. https://mobile:8787."
    )
    token_env: str | None = Field(
        default=None,
        description="Environment variable holding the peer's SELFREG_WEB_TOKEN (sent as a "
        "Bearer token), e.g. SELFREG_PEER_MOBILE_TOKEN.",
    )
    interval: Duration = Field(default=30.0, gt=0, description="How often the peer is asked.")
    clock_skew: DurationThreshold = Field(
        default_factory=lambda: DurationThreshold(warn=30.0, critical=300.0),
        description="How far the peer's clock may be from ours.",
    )

    @field_validator("url")
    @classmethod
    def _no_credentials(cls, url: str) -> str:
        """A user:password@ in the URL would show in every summary: the token goes in token_env."""
        if URL(url).user is not None:
            raise ValueError("put no user:password@ in the URL; the token goes in token_env")
        return url
