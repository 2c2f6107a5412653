"""``selfreg logs NAME [-f]``: a component's output, from ``<data>/logs/<label>.log``.

Read from the file the component writes itself (no running selfreg needed). ``-f`` follows
it as ``tail -F`` does through the supervisor's copy-then-truncate rotation (a file shorter
than what was read has been truncated: read on from its start) until Ctrl-C.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import click

from bot import messages
from bot.cli.complete import names_of
from bot.cli.shell import EXIT_OK, EXIT_USAGE, config_option, fail, load
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


@click.command()
@config_option
@click.argument("name", shell_complete=names_of("components"))
@click.option("-f", "--follow", "following", is_flag=True, help="Keep printing new output.")
@click.option("-n", "--lines", default=50, show_default=True, help="Lines to show first.")
def logs(config_file: str | None, name: str, following: bool, lines: int) -> None:
    """Print the output of the component NAME; -f follows it until Ctrl-C."""
    config = load(config_file)
    path = log_path(config, name)
    if not path.exists() and not following:
        click.echo(messages.no_log_yet(str(path)))
        return
    text, offset = tail(path, lines) if path.exists() else ("", 0)
    click.echo(text, nl=False)
    if following:
        try:
            follow(path, offset, lambda chunk: click.echo(chunk, nl=False))
        except KeyboardInterrupt:
            sys.exit(EXIT_OK)
