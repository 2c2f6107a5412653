"""What every ``selfreg`` command shares: loading the config, logging, exit codes, refusing.

Exit codes: 0 done / ok, 1 refused or warning, 2 failed or critical, 3 unknown (``health``
and ``check run`` follow the Nagios plugin convention), 64 a usage error (sysexits'
``EX_USAGE``: a wrong option, argument or name), so a script can tell "you called it wrong"
from "something is critical". ``--config/-c`` and ``--data-dir`` are accepted before the
subcommand (``selfreg -c prod.toml alerts``) and after it; the one given last wins.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from bot import logline, messages
from bot.config import LoadedConfig, load_settings
from bot.errors import ConfigError
from common.units import parse_duration

EXIT_OK, EXIT_WARNING, EXIT_FAILING, EXIT_UNKNOWN = 0, 1, 2, 3
EXIT_REFUSED = 1  # the policy, a permission or an unmapped CLI user said no
EXIT_USAGE = 64  # sysexits.h EX_USAGE

_CONFIG, _DATA_DIR = "selfreg.config_file", "selfreg.data_dir"  # keys in click's ctx.meta

F = TypeVar("F", bound=Callable[..., Any])


def _remember(key: str) -> Callable[[click.Context, click.Parameter, str | None], str | None]:
    def callback(ctx: click.Context, _: click.Parameter, value: str | None) -> str | None:
        if value is not None:
            ctx.meta[key] = value  # meta is shared by the group's and the command's contexts
        return value

    return callback


CONFIG_HELP = "Config file (default: $SELFREG_CONFIG, ./selfreg.toml, else the bundled example)."
DATA_DIR_HELP = "Data folder: store, logs, control socket (default: $SELFREG_DATA_DIR, ./var)."


def global_options(group: F) -> F:
    """``--config/-c`` and ``--data-dir`` on the ``selfreg`` group, before the subcommand."""
    group = click.option(
        "--data-dir", metavar="DIR", expose_value=False, callback=_remember(_DATA_DIR),
        help=DATA_DIR_HELP,
    )(group)  # fmt: skip
    return click.option(
        "--config", "-c", metavar="FILE", expose_value=False, callback=_remember(_CONFIG),
        help=CONFIG_HELP,
    )(group)  # fmt: skip


def config_option(command: F) -> F:
    """The same two options after the subcommand (``selfreg alerts -c prod.toml``)."""
    command = click.option(
        "--data-dir", metavar="DIR", expose_value=False, callback=_remember(_DATA_DIR),
        help=DATA_DIR_HELP,
    )(command)  # fmt: skip
    return click.option(
        "--config", "-c", "config_file", metavar="FILE", callback=_remember(_CONFIG),
        help=CONFIG_HELP,
    )(command)  # fmt: skip


class SelfregGroup(click.Group):
    """The ``selfreg`` group: a usage error anywhere below it exits 64, not click's 2."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:
            exc.exit_code = EXIT_USAGE
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            exc.exit_code = EXIT_USAGE
            raise


class Ref(click.ParamType):
    """An id as people write it: ``12``, ``#12``, or with its letter (``P12`` for proposal
    12, as the console and Slack show proposals)."""

    name = "id"

    def __init__(self, letter: str = "") -> None:
        self.letter = letter.upper()

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        text = str(value).strip().lstrip("#")
        if self.letter and text[:1].upper() == self.letter:
            text = text[1:]
        if not text.isdigit():
            self.fail(messages.not_an_id(str(value)), param, ctx)
        return int(text)


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    return str(value)  # paths, enums


def echo_json(value: Any) -> None:
    """``--json`` output: one indented document (dataclasses as objects, paths as text)."""
    click.echo(json.dumps(value, indent=2, default=_plain))


def fail(text: str, code: int = EXIT_FAILING) -> NoReturn:
    """Print ``selfreg: text`` on standard error and exit ``code`` (2 unless said)."""
    click.echo(messages.cli_error(text), err=True)
    sys.exit(code)


def _meta(ctx: click.Context | None) -> dict[str, Any]:
    ctx = ctx or click.get_current_context(silent=True)
    return ctx.meta if ctx is not None else {}


def config_file(explicit: str | None = None, ctx: click.Context | None = None) -> str | None:
    """The config file named on the command line (after or before the subcommand), if any."""
    return explicit or _meta(ctx).get(_CONFIG)


def data_dir(ctx: click.Context | None = None) -> str | None:
    """The data folder named on the command line, if any (else the environment decides)."""
    return _meta(ctx).get(_DATA_DIR)


def load_quietly(explicit: str | None = None, ctx: click.Context | None = None) -> LoadedConfig:
    """The config the command works on (``ctx``: the current click context unless given);
    raises ``ConfigError`` (completion ignores it)."""
    folder = data_dir(ctx)
    environ = {**os.environ, "SELFREG_DATA_DIR": folder} if folder else None
    return load_settings(config_file(explicit, ctx), environ)


def load(explicit: str | None, code: int = EXIT_FAILING) -> LoadedConfig:
    """The config the command works on; a bad one is printed and exits ``code`` (2)."""
    try:
        return load_quietly(explicit)
    except ConfigError as exc:
        fail(str(exc), code)


def setup_logging(level: str, fmt: str = "text") -> None:
    """Logging at ``level`` in selfreg's one line format (``bot.logline``; ``fmt`` text or json)."""
    logline.configure(level, fmt)


def duration(option: str, text: str) -> float:
    """An option's duration (``30s``, ``2h``); one it cannot read is a usage error (64)."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        fail(messages.bad_option(option, text, str(exc)), EXIT_USAGE)
