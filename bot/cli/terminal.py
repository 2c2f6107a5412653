"""Colours and a spinner, only where a person watches a terminal.

Output that goes to a file, a pipe or a log (``selfreg start``'s own log, CI, a Procfile
platform) stays plain text: no escape codes, no carriage returns. ``NO_COLOR`` (any value,
https://no-color.org, a convention shared by many tools rather than a selfreg setting, so
not in ``.env.example``) turns colours off on a terminal too.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections.abc import Mapping
from typing import TextIO

import click

# The words that carry a state in tables and step lines, and their colour.
COLOURS: Mapping[str, str] = {
    "ok": "green",
    "OK": "green",
    "running": "green",
    "ready": "green",
    "warn": "yellow",
    "WARN": "yellow",
    "warning": "yellow",
    "starting": "yellow",
    "backoff": "yellow",
    "unready": "yellow",
    "skip": "bright_black",
    "stopped": "bright_black",
    "FAIL": "red",
    "CRIT": "red",
    "UNKN": "magenta",
    "critical": "red",
    "unknown": "magenta",
    "failed": "red",
    "exited": "red",
    "crash-loop": "red",
}

SPINNER_FRAMES = "|/-\\"
SPINNER_AFTER = 0.3  # a step quicker than this shows no spinner at all
SPINNER_EVERY = 0.1


def wants_colour(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """True when ``stream`` is a terminal and nothing in the environment says otherwise."""
    env = os.environ if environ is None else environ
    if "NO_COLOR" in env:
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def paint(word: str, colour: bool) -> str:
    """``word`` in its state's colour when ``colour``; unchanged otherwise."""
    name = COLOURS.get(word.strip())
    if not colour or name is None:
        return word
    return click.style(word, fg=name, bold=name == "red")


class Spinner:
    """A one-line "working on it" indicator for a slow step, erased when the step ends.

    Drawn only on a terminal and only once the step has taken ``SPINNER_AFTER``: quick steps
    and non-terminal output print nothing but their final line.
    """

    def __init__(self, out: TextIO, label: str, *, enabled: bool) -> None:
        self.out = out
        self.label = label
        self.enabled = enabled
        self._task: asyncio.Task[None] | None = None
        self._drawn = False

    async def __aenter__(self) -> Spinner:
        if self.enabled:
            self._task = asyncio.get_running_loop().create_task(self._spin(), name="spinner")
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._drawn:
            self.out.write("\r\x1b[K")
            self.out.flush()

    async def _spin(self) -> None:
        await asyncio.sleep(SPINNER_AFTER)
        for frame in itertools.cycle(SPINNER_FRAMES):
            self.out.write(f"\r  {frame}  {self.label} ...")
            self.out.flush()
            self._drawn = True
            await asyncio.sleep(SPINNER_EVERY)
