"""What every ``selfreg`` command shares: loading the config, logging, exit codes, refusing."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

from bot import logline, messages
from bot.config import LoadedConfig, load_settings
from bot.errors import ConfigError
from common.units import parse_duration

EXIT_OK, EXIT_WARNING, EXIT_FAILING = 0, 1, 2

config_option = click.option(
    "--config",
    "-c",
    "config_file",
    metavar="FILE",
    help="Config file (default: $SELFREG_CONFIG, ./selfreg.toml, else the bundled example).",
)


def fail(text: str) -> NoReturn:
    """Print ``selfreg: text`` on standard error and exit 2."""
    click.echo(messages.cli_error(text), err=True)
    sys.exit(EXIT_FAILING)


def load(config_file: str | None) -> LoadedConfig:
    """The config the command works on; a bad one is printed and exits 2."""
    try:
        return load_settings(config_file)
    except ConfigError as exc:
        fail(str(exc))


def setup_logging(level: str, fmt: str = "text") -> None:
    """Logging at ``level`` in selfreg's one line format (``bot.logline``; ``fmt`` text or json)."""
    logline.configure(level, fmt)


def duration(option: str, text: str) -> float:
    """An option's duration (``30s``, ``2h``); one it cannot read exits 2."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        fail(messages.bad_option(option, text, str(exc)))
