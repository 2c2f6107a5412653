"""Lines about how selfreg runs as a service: systemd's notify protocol, the log format, the
interpreter's optimisation."""

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


def expected_python_optimize() -> str:
    return "expected 2 (run under python -OO, the default) or 0 (the interpreter as started)"


def python_optimized(optimized: bool) -> str:
    """The start-up step ``Python``: how the interpreter runs (``bot.interpreter``)."""
    if optimized:
        return "-OO, docstrings left out: SELFREG_PYTHON_OPTIMIZE=0 keeps them"
    return "docstrings kept"
