"""Whether the environment names an HTTP proxy (the variables curl and aiohttp read)."""

from __future__ import annotations

from collections.abc import Mapping

PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")


def proxy_named(env: Mapping[str, str]) -> bool:
    """True when a proxy variable is set (not empty): only then must an HTTP client read
    the environment, ``NO_PROXY`` included, on its requests."""
    return any(env.get(name) for name in PROXY_VARIABLES)
