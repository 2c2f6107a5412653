"""``selfreg config check`` and ``config docs``: validate the config, print its reference."""

from __future__ import annotations

import sys

import click

from bot import messages
from bot.cli.shell import EXIT_FAILING
from bot.config import load_settings
from bot.config.docs import render_reference
from bot.errors import ConfigError


@click.group("config")
def config_group() -> None:
    """Validate the config and print its reference."""


@config_group.command("check")
@click.argument("file", required=False)
def config_check(file: str | None) -> None:
    """Validate FILE (or the config selfreg would load) and list every problem; exit 2 if any."""
    try:
        config = load_settings(file)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(messages.config_problems_found(len(exc.problems)), err=True)
        sys.exit(EXIT_FAILING)
    settings = config.settings
    click.echo(
        messages.config_valid(
            [str(f) for f in config.files],
            len(settings.checks),
            len(settings.components),
            len(settings.actions),
        )
    )


@config_group.command("docs")
def config_docs() -> None:
    """Print the reference of every config key (the source of docs/config.md)."""
    click.echo(render_reference(), nl=False)
