"""``selfreg config check``, ``config docs`` and ``config schema``: validate the config, print
its reference, print its JSON Schema for editors."""

from __future__ import annotations

import json
import sys

import click

from bot import messages
from bot.cli.shell import EXIT_FAILING, echo_json, json_option, load_quietly
from bot.config.docs import render_reference
from bot.config.json_schema import config_json_schema
from bot.errors import MISSING, ConfigError, ConfigProblem


@click.group("config")
def config_group() -> None:
    """Validate the config; print its reference or its JSON Schema."""


@config_group.command("check")
@json_option
@click.argument("file", required=False)
def config_check(as_json: bool, file: str | None) -> None:
    """Validate FILE (or the config selfreg would load) and list every problem; exit 2 if any."""
    try:
        config = load_quietly(file)
    except ConfigError as exc:
        if as_json:
            echo_json({"valid": False, "problems": [_problem(p) for p in exc.problems]})
            sys.exit(EXIT_FAILING)
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(messages.config_problems_found(len(exc.problems)), err=True)
        sys.exit(EXIT_FAILING)
    settings = config.settings
    files = [str(f) for f in config.files]
    counts = (len(settings.checks), len(settings.components), len(settings.actions))
    if as_json:
        echo_json(
            {"valid": True, "files": files, "counts": dict(zip(_COUNTED, counts, strict=True))}
        )
        return
    click.echo(messages.config_valid(files, *counts))


_COUNTED = ("checks", "components", "actions")


def _problem(problem: ConfigProblem) -> dict[str, object]:
    shown = None if problem.value is MISSING else problem.value
    return {"file": problem.file, "key": problem.key, "value": shown, "message": problem.message}


@config_group.command("docs")
def config_docs() -> None:
    """Print the reference of every config key (the source of docs/config.md)."""
    click.echo(render_reference(), nl=False)


@config_group.command("schema")
def config_schema() -> None:
    """Print the config's JSON Schema (for editors: Taplo / Even Better TOML and the like)."""
    click.echo(json.dumps(config_json_schema(), indent=2))
