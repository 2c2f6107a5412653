"""Lines about how selfreg runs as a service: systemd's notify protocol, the log format."""

from __future__ import annotations


def sd_notify_failed(address: str, error: str) -> str:
    return f"could not tell systemd (NOTIFY_SOCKET {address}): {error}"


def sd_ready(checks: int, components: int) -> str:
    """``systemctl status`` while selfreg runs (``STATUS=``)."""
    return f"running: {checks} check(s), {components} component(s)"


def sd_stopping() -> str:
    return "stopping: components, then the outbox, then the store"


def expected_log_format() -> str:
    return "expected text or json"
