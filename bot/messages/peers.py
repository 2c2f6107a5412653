"""Peers and shared folders: the lines an operator reads about the other side and its syncs.

A peer's own line ("mobile: 11 ok, 1 critical — api-health failing for 4 min") is written by
the ``peer`` check itself (``checks/peer_summary.py``: checks cannot import this package);
here are the headings and the lines around it in ``/selfreg status`` and ``selfreg status``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.messages.common import human_duration


def peers_heading(count: int) -> str:
    """``selfreg status``: the heading above the other sides' lines."""
    return f"Peers ({count}):"


def peers_section(count: int) -> str:
    """``/selfreg status``: the heading of the other sides' section."""
    return f"*Peers* ({count})"


def peer_status_line(peer: Mapping[str, Any], now: float) -> str:
    """``critical  mobile: cannot reach https://mobile:8787/status: Connection refused (12 s ago)``."""
    return f"{peer['status']:<8}  {peer['summary']} ({human_duration(now - peer['at'])} ago)"


def rsync_missing(names: str, program: str) -> str:
    """Start-up refusal: a ``[[sync]]`` entry's rsync cannot be found."""
    return (
        f"sync {names}: {program} not found on PATH; install it (Debian: apt-get install rsync) "
        "or set the entry's rsync to its path"
    )


def rsync_found(count: int, program: str) -> str:
    """Start-up: the syncs' rsync was found."""
    return f"{count} sync{'s' if count != 1 else ''}: {program} found"
