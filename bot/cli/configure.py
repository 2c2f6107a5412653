"""``selfreg config check``, ``config docs`` and ``config schema``: validate the config, print
its reference, print its JSON Schema for editors."""

from __future__ import annotations

import json
import sys

import click

from bot import messages
from bot.cli.shell import EXIT_FAILING, load_quietly
from bot.config.docs import render_reference
from bot.config.json_schema import config_json_schema
from bot.errors import ConfigError


@click.group("config")
def config_group() -> None:
    """Validate the config; print its reference or its JSON Schema."""


@config_group.command("check")
@click.argument("file", required=False)
def config_check(file: str | None) -> None:
    """Validate FILE (or the config selfreg would load) and list every problem; exit 2 if any."""
    try:
        config = load_quietly(file)
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


@config_group.command("schema")
def config_schema() -> None:
    """Print the config's JSON Schema (for editors: Taplo / Even Better TOML and the like)."""
    click.echo(json.dumps(config_json_schema(), indent=2))
