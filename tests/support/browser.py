"""Debian's Chromium driven by playwright's Python package: never a browser download.

``scripts/test`` installs both (``apt-get install chromium``, ``pip install playwright``);
the flags keep a headless Chromium from reaching out to the network at start.
"""

from __future__ import annotations

import shutil
from typing import Any

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    """The system Chromium, if installed."""
    return CHROMIUM if shutil.which(CHROMIUM) else shutil.which("chromium")


def launch(playwright: Any) -> Any:
    """A headless Chromium browser from the system package."""
    return playwright.chromium.launch(executable_path=chromium_path(), args=FLAGS, headless=True)
