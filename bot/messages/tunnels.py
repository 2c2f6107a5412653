"""Sentences about the tunnel checks (``ngrok``, ``cloudflared``) that selfreg itself says;
the checks' own summaries are written by the checks, which never import ``bot``."""

from __future__ import annotations


def component_unknown(check: str, component: str) -> str:
    """A check's ``component`` must name a ``[[components]]`` entry."""
    return f'checks "{check}": component names "{component}", which is not a [[components]] entry'
