"""The ``selfreg`` command: a thin click shell over the runtime and the control socket."""

from __future__ import annotations

import asyncio
import getpass
import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from dotenv import load_dotenv

from bot import __version__, control, daemon, messages, status_facts
from bot.config import LoadedConfig, load_settings
from bot.config.docs import render_reference
from bot.control import observation_dict
from bot.engine.status import status_from_store
from bot.errors import ConfigError, UserError
from bot.runtime import run_checks_alone
from bot.startup import run_foreground
from bot.store import audit, backup, open_store
from bot.terminal import wants_colour
from common.units import parse_duration

EXIT_OK, EXIT_WARNING, EXIT_FAILING = 0, 1, 2

config_option = click.option(
    "--config",
    "-c",
    "config_file",
    metavar="FILE",
    help="Config file (default: $SELFREG_CONFIG, ./selfreg.toml, else the bundled example).",
)


def _load(config_file: str | None) -> LoadedConfig:
    try:
        return load_settings(config_file)
    except ConfigError as exc:
        click.echo(f"selfreg: {exc}", err=True)
        sys.exit(EXIT_FAILING)


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, logging.getLevelName(level)))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="selfreg")
def cli() -> None:
    """selfreg: a Slack-first, self-regulating monitor."""


@cli.command()
@config_option
@click.option("--detached", is_flag=True, hidden=True, help="Started by `selfreg start`.")
def run(config_file: str | None, detached: bool) -> None:
    """Run selfreg in the foreground until Ctrl-C or SIGTERM (what the Procfile starts).

    Prints each start-up step with its outcome; a failed step stops everything it had
    started and exits 2.
    """
    config = _load(config_file)
    _setup_logging(config.log_level)
    try:
        code = asyncio.run(run_foreground(config, detached=detached))
    except UserError as exc:
        click.echo(f"selfreg: {exc}", err=True)
        sys.exit(EXIT_FAILING)
    sys.exit(code)


def _exit_code(statuses: Sequence[str]) -> int:
    if any(s in ("critical", "unknown") for s in statuses):
        return EXIT_FAILING
    return EXIT_WARNING if "warning" in statuses else EXIT_OK


def _run_checks(config: LoadedConfig, names: Sequence[str] | None) -> list[dict[str, Any]]:
    """Ask the running instance to run checks now; run them here when none runs."""
    route = "/health" if names is None else f"/checks/{names[0]}/run"
    try:
        answer = asyncio.run(control.ask(config.control_socket, "POST", route))
    except LookupError as exc:
        raise UserError(str(exc)) from None
    if answer is not None:
        return list(answer["observations"])
    observations = asyncio.run(run_checks_alone(config, names))
    return [observation_dict(o) for o in observations]


@cli.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def health(config_file: str | None, as_json: bool) -> None:
    """Run every check once now and print the result; exit 0 ok, 1 warnings, 2 failing.

    Asks the running instance when there is one. Either way nothing is recorded: no log
    offset advances and no transition is made.
    """
    config = _load(config_file)
    _setup_logging("WARNING")
    try:
        observations = _run_checks(config, None)
    except UserError as exc:
        click.echo(f"selfreg: {exc}", err=True)
        sys.exit(EXIT_FAILING)
    statuses = [o["status"] for o in observations]
    if as_json:
        click.echo(json.dumps({"observations": observations}, indent=2))
    else:
        click.echo(messages.observations_table(observations))
        click.echo(messages.health_verdict(Counter(statuses)))
    sys.exit(_exit_code(statuses))


@cli.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def status(config_file: str | None, as_json: bool) -> None:
    """Show selfreg, its components, checks by state, open incidents and pending approvals.

    Asks the running instance; when none runs, reads what the store last recorded.
    """
    config = _load(config_file)
    document = asyncio.run(control.ask(config.control_socket, "GET", "/status"))
    if document is None:
        if not config.db_path.exists():
            click.echo(f"selfreg has not run with the data folder {config.data_dir} yet.")
            sys.exit(EXIT_OK)
        store = open_store(config.db_path, readonly=True)
        try:
            document = status_from_store(store, time.time())
        finally:
            store.close()
    document = status_facts.add_facts(document, config)
    if as_json:
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo(messages.status_screen(document, time.time(), wants_colour(sys.stdout)))


@cli.group("check")
def check_group() -> None:
    """Work with single checks."""


@check_group.command("run")
@config_option
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def check_run(config_file: str | None, name: str, as_json: bool) -> None:
    """Run the check NAME once now and print its observations (records nothing)."""
    config = _load(config_file)
    _setup_logging("WARNING")
    try:
        observations = _run_checks(config, [name])
    except UserError as exc:
        click.echo(f"selfreg: {exc}", err=True)
        sys.exit(EXIT_FAILING)
    if as_json:
        click.echo(json.dumps({"observations": observations}, indent=2))
    else:
        click.echo(messages.observations_table(observations))
        for observation in observations:
            for metric, value in sorted(observation["values"].items()):
                click.echo(
                    f"  {messages.subject_label(observation['check'], observation['subject'])} {metric} = {value:g}"
                )
    sys.exit(_exit_code([o["status"] for o in observations]))


@cli.group("config")
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


def _ask_running(
    config: LoadedConfig,
    method: str,
    route: str,
    *,
    body: dict[str, Any] | None = None,
    timeout: float = 60.0,
    not_running: str | None = None,
) -> dict[str, Any] | None:
    """The running instance's answer through its control socket. A socket that answers
    badly exits 2; none running exits 2 with ``not_running`` when given, else is None."""
    try:
        answer = asyncio.run(
            control.ask(config.control_socket, method, route, timeout=timeout, body=body)
        )
    except LookupError as exc:
        click.echo(f"selfreg: {exc}", err=True)
        sys.exit(EXIT_FAILING)
    if answer is None and not_running is not None:
        click.echo(f"selfreg: {not_running}", err=True)
        sys.exit(EXIT_FAILING)
    return answer


def _decide(config_file: str | None, proposal: int, verb: str, reason: str = "") -> None:
    config = _load(config_file)
    answer = _ask_running(
        config,
        "POST",
        f"/proposals/{proposal}/{verb}",
        body={"actor": getpass.getuser(), "reason": reason},
        not_running="selfreg is not running here; proposals are decided by the running instance.",
    )
    assert answer is not None
    click.echo(answer["reason"])
    sys.exit(EXIT_OK if answer["allowed"] else EXIT_WARNING)


@cli.command()
@config_option
def reload(config_file: str | None) -> None:
    """Reload the running instance's config now (what SIGHUP and `/selfreg reload` do).

    Exit 0 when the new config applies (or nothing changed), 2 when it is refused (the
    running instance keeps the old one) or nothing runs with this data folder.
    """
    config = _load(config_file)
    answer = _ask_running(
        config,
        "POST",
        "/reload",
        body={"actor": getpass.getuser()},
        not_running=messages.reload_not_running(str(config.data_dir)),
    )
    assert answer is not None
    click.echo(answer["text"])
    sys.exit(EXIT_OK if answer["ok"] else EXIT_FAILING)


@cli.command()
@config_option
@click.argument("proposal", type=int)
def approve(config_file: str | None, proposal: int) -> None:
    """Approve PROPOSAL through the running instance, under the same policy as a Slack click.

    Recorded with your local user name; the control socket's file permissions decide who may.
    """
    _decide(config_file, proposal, "approve")


@cli.command()
@config_option
@click.argument("proposal", type=int)
@click.option("--reason", default="", help="Why it is denied (recorded and shown in the thread).")
def deny(config_file: str | None, proposal: int, reason: str) -> None:
    """Deny PROPOSAL through the running instance; recorded with your local user name."""
    _decide(config_file, proposal, "deny", reason)


@cli.group("audit")
def audit_group() -> None:
    """Check and export the hash-chained audit trail."""


@audit_group.command("verify")
@config_option
def audit_verify(config_file: str | None) -> None:
    """Check every audit row's digest chain; name the first tampered row; exit 2 if any."""
    config = _load(config_file)
    if not config.db_path.exists():
        click.echo("No store yet: nothing to verify.")
        return
    store = open_store(config.db_path, readonly=True)
    try:
        count, tampered = audit.verify(store)
    finally:
        store.close()
    if tampered is not None:
        click.echo(f"audit row {tampered.id} is tampered: {tampered.reason}", err=True)
        sys.exit(EXIT_FAILING)
    click.echo(f"audit trail intact: {count} rows verified.")


@audit_group.command("export")
@config_option
@click.option("--since", default="30d", help="How far back, as a duration (default 30d).")
def audit_export(config_file: str | None, since: str) -> None:
    """Write the audit trail since --since as CSV on standard output."""
    config = _load(config_file)
    try:
        window = parse_duration(since)
    except ValueError as exc:
        click.echo(f"selfreg: --since = {since!r}: {exc}", err=True)
        sys.exit(EXIT_FAILING)
    if not config.db_path.exists():
        return
    store = open_store(config.db_path, readonly=True)
    try:
        audit.export_csv(store, sys.stdout, since=time.time() - window)
    finally:
        store.close()


@cli.group("backup", invoke_without_command=True)
@config_option
@click.option(
    "--to",
    "to",
    metavar="DIR",
    help="Write the archive into DIR instead of [backup] folder (nothing is pruned there).",
)
@click.pass_context
def backup_group(ctx: click.Context, config_file: str | None, to: str | None) -> None:
    """Back up the store (online, safe while selfreg runs) and the config files.

    Alone, writes one checked archive and prints its path, size, rows and integrity.
    """
    ctx.obj = config_file
    if ctx.invoked_subcommand is not None:
        return
    config = _load(config_file)
    try:
        made = backup.create_backup(config, Path(to) if to else None)
    except UserError as exc:
        click.echo(f"selfreg: {exc}", err=True)
        sys.exit(EXIT_FAILING)
    click.echo(
        messages.backup_created(
            str(made.path),
            made.size,
            made.total_rows,
            len(made.rows),
            made.integrity,
            made.config_files,
            str(made.copied_to) if made.copied_to else None,
            made.seconds,
        )
    )


@backup_group.command("list")
@config_option
@click.pass_obj
def backup_list(parent_config: str | None, config_file: str | None) -> None:
    """List the archives in the backup folder, newest first: name, time (UTC), size."""
    config = _load(config_file or parent_config)
    found = backup.list_backups(config)
    click.echo(
        messages.backups_table(
            str(backup.backup_folder(config)), [(b.name, b.created_at, b.size) for b in found]
        )
    )


def _duration(option: str, text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        click.echo(f"selfreg: {option} = {text!r}: {exc}", err=True)
        sys.exit(EXIT_FAILING)


def _start(config_file: str | None, timeout: str) -> int:
    config = _load(config_file)
    return daemon.start(
        config,
        config_file,
        echo=click.echo,
        echo_err=lambda text: click.echo(f"selfreg: {text}", err=True),
        timeout=_duration("--timeout", timeout),
        interactive=wants_colour(sys.stdout),
    )


def _stop(config_file: str | None, timeout: str) -> int:
    config = _load(config_file)
    return daemon.stop(config, echo=click.echo, timeout=_duration("--timeout", timeout))


start_timeout_option = click.option(
    "--timeout",
    "start_timeout",
    default="120s",
    show_default=True,
    help="Give up (and stop it again) if it is not running after this long.",
)
stop_timeout_option = click.option(
    "--timeout",
    "stop_timeout",
    default="30s",
    show_default=True,
    help="Wait this long for a graceful stop, then SIGKILL.",
)


@cli.command()
@config_option
@click.argument("archive")
def restore(config_file: str | None, archive: str) -> None:
    """Put the store from ARCHIVE (a path, or a name from `backup list`) back in place.

    Refused while selfreg runs with this data folder. The replaced store is kept beside it as
    <store>.replaced-<time>; the archived config files are written to
    <data>/restored-config-<time>/ and your config files are never changed.
    """
    config = _load(config_file)
    try:
        done = backup.restore_backup(config, Path(archive))
    except UserError as exc:
        click.echo(f"selfreg: {exc}", err=True)
        sys.exit(EXIT_FAILING)
    click.echo(
        messages.restored(
            str(done.archive),
            str(done.store),
            done.created_at,
            done.total_rows,
            str(done.replaced) if done.replaced else None,
            str(done.config_dir) if done.config_dir else None,
        )
    )


@cli.command()
@config_option
@start_timeout_option
def start(config_file: str | None, start_timeout: str) -> None:
    """Start selfreg in the background; show its start-up steps; exit 0 once it runs, else 2.

    Output goes to <data>/selfreg.log, the pid to <data>/selfreg.pid. Refused (exit 2) when
    a selfreg already runs with this data folder; a stale pid file is replaced.
    """
    sys.exit(_start(config_file, start_timeout))


@cli.command()
@config_option
@stop_timeout_option
def stop(config_file: str | None, stop_timeout: str) -> None:
    """Stop the selfreg of this data folder: SIGTERM, then SIGKILL after --timeout.

    Exit 0 when it is stopped, and also when none was running (like systemctl stop).
    """
    sys.exit(_stop(config_file, stop_timeout))


@cli.command()
@config_option
@stop_timeout_option
@click.option(
    "--start-timeout",
    "start_timeout",
    default="120s",
    show_default=True,
    help="Give up (and stop it again) if it is not running after this long.",
)
def restart(config_file: str | None, stop_timeout: str, start_timeout: str) -> None:
    """Stop selfreg (if it runs), then start it in the background (as stop, then start)."""
    code = _stop(config_file, stop_timeout)
    if code != EXIT_OK:
        sys.exit(code)
    sys.exit(_start(config_file, start_timeout))


@cli.group("models")
def models_group() -> None:
    """The predictors: what they have learned, and fitting them now."""


def _offline_predictor(config: LoadedConfig, store: Any) -> Any:
    """A predictor over the store and saved state, for when no instance is running."""
    from bot.clock import SystemClock
    from bot.engine.alerting import Alerting
    from bot.engine.predict import Predictor

    specs = {spec.name: spec for spec in config.settings.checks}
    clock = SystemClock()
    alerting = Alerting(store, clock, config.settings.alerts, specs, {})
    predictor = Predictor(
        settings=config.settings.models,
        specs=specs,
        store=store,
        clock=clock,
        alerting=alerting,
        model_dir=config.data_dir / "models",
    )
    predictor.load()
    return predictor


def _models(config_file: str | None, route: str) -> None:
    config = _load(config_file)
    _setup_logging("WARNING")
    method = "GET" if route == "/models" else "POST"
    answer = _ask_running(config, method, route, timeout=600)
    if answer is not None:
        where = "by the running instance"
        rows = answer["models"]
    elif not config.db_path.exists():
        click.echo(f"selfreg has not run with the data folder {config.data_dir} yet.")
        return
    else:
        where = "here (no instance is running)"
        store = open_store(config.db_path, readonly=route == "/models")
        try:
            predictor = _offline_predictor(config, store)
            if route != "/models":
                predictor.warm_from_store()
                asyncio.run(predictor.retrain(force=True))
            rows = predictor.model_rows()
        finally:
            store.close()
    if route == "/models":
        click.echo(messages.models_status(rows))
    else:
        click.echo(messages.models_trained(rows, where))


@models_group.command("status")
@config_option
def models_status(config_file: str | None) -> None:
    """Per model: on, trained, samples, last fit, precision and feedback counts."""
    _models(config_file, "/models")


@models_group.command("train")
@config_option
def models_train(config_file: str | None) -> None:
    """Fit the models now from the store's history (through the running instance if any)."""
    _models(config_file, "/models/train")


def main() -> None:
    """Entry point: load ./.env (never overriding the real environment), then run the CLI."""
    load_dotenv(Path.cwd() / ".env", override=False)
    cli()
