"""``selfreg logs NAME [-f]``: a component's output, from ``<data>/logs/<label>.log``.

Read from the file the component writes itself (no running selfreg needed). ``-f`` follows
it as ``tail -F`` does through the supervisor's copy-then-truncate rotation (a file shorter
than what was read has been truncated: read on from its start) until Ctrl-C.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click

from bot import messages
from bot.cli.complete import names_of
from bot.cli.shell import EXIT_OK, EXIT_USAGE, config_option, fail, json_option, load
from bot.config import LoadedConfig

FOLLOW_EVERY = 0.25  # seconds between two looks at a followed file


def log_path(config: LoadedConfig, name: str) -> Path:
    """The log of component ``name`` (or of one instance, ``api-1``); a usage error if
    there is no such component, or it has several instances and NAME picks none."""
    labels: dict[str, list[str]] = {}
    for component in config.settings.components:
        count = component.instances
        labels[component.name] = (
            [component.name] if count == 1 else [f"{component.name}-{i}" for i in range(count)]
        )
    every = {label for group in labels.values() for label in group}
    if name in every:
        return config.data_dir / "logs" / f"{name}.log"
    if name in labels:
        fail(messages.component_log_choice(name, labels[name]), EXIT_USAGE)
    fail(messages.unknown_log(name, sorted(labels)), EXIT_USAGE)


def tail(path: Path, lines: int) -> tuple[str, int]:
    """The last ``lines`` lines of ``path`` and the offset where they end."""
    data = path.read_bytes()
    chunks = data.splitlines(keepends=True)
    return b"".join(chunks[-lines:] if lines else []).decode(errors="replace"), len(data)


def follow(
    path: Path,
    offset: int,
    write: Callable[[str], None],
    *,
    until: Callable[[], bool] = lambda: False,
    every: float = FOLLOW_EVERY,
) -> None:
    """Write what is appended to ``path`` from ``offset`` on, until ``until()`` says stop;
    starts again from 0 when the file was truncated (rotation) or replaced."""
    while not until():
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            size = 0
        if size < offset:
            offset = 0
        if size > offset:
            with path.open("rb") as handle:
                handle.seek(offset)
                chunk = handle.read(size - offset)
            offset += len(chunk)
            write(chunk.decode(errors="replace"))
        time.sleep(every)


def json_lines(name: str) -> Callable[[str], None]:
    """A writer that prints each complete line of the text it is given as one JSON object
    (``{"component": ..., "line": ...}``), keeping a partial last line for the next call."""
    pending = [""]

    def write(chunk: str) -> None:
        *complete, pending[0] = (pending[0] + chunk).split("\n")
        for line in complete:
            click.echo(json.dumps({"component": name, "line": line}))

    return write


@click.command()
@config_option
@click.argument("name", shell_complete=names_of("components"))
@click.option("-f", "--follow", "following", is_flag=True, help="Keep printing new output.")
@click.option("-n", "--lines", default=50, show_default=True, help="Lines to show first.")
@json_option
def logs(config_file: str | None, name: str, following: bool, lines: int, as_json: bool) -> None:
    """Print the output of the component NAME; -f follows it until Ctrl-C. With --json, one
    JSON object per line (JSON lines, also while following)."""
    config = load(config_file)
    path = log_path(config, name)
    write = json_lines(name) if as_json else lambda chunk: click.echo(chunk, nl=False)
    if not path.exists() and not following:
        if not as_json:
            click.echo(messages.no_log_yet(str(path)))
        return
    text, offset = tail(path, lines) if path.exists() else ("", 0)
    write(text)
    if following:
        try:
            follow(path, offset, write)
        except KeyboardInterrupt:
            sys.exit(EXIT_OK)
