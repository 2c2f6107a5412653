"""The texts of ``UserError`` and its kin (``bot.errors``): what went wrong, for the operator.

Each error class in ``bot.errors`` builds its message with one function here, from its typed
fields.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence

from bot.messages.common import human_duration


def python_too_old(found: str, lowest: tuple[int, int]) -> str:
    return f"Python {found} is too old: selfreg needs {lowest[0]}.{lowest[1]} or later"


def executable_missing(component: str, program: str, cwd: str) -> str:
    if "/" in program:
        return f'component "{component}": {program} is not an executable file (from {cwd})'
    return f'component "{component}": "{program}" is not found on PATH'


def data_folder_unwritable(path: str, error: str) -> str:
    return f"cannot write in the data folder {path}: {error}"


def port_taken(host: str, port: int, error: str) -> str:
    return (
        f"the web server cannot listen on {host}:{port}: {error} "
        "(another program uses it? set SELFREG_WEB_PORT or [web] port)"
    )


def already_running(pid: int, since: float | None, pid_file: str) -> str:
    """A second selfreg on a locked data folder; pid 0 while the first is writing its file."""
    up = f", up {human_duration(time.time() - since)}" if since else ""
    who = f"pid {pid}{up}" if pid else "starting now"
    return (
        f"selfreg already runs with this data folder ({who}; pid file {pid_file}): "
        "`selfreg stop` or `selfreg restart` it"
    )


# ---- config problems ---------------------------------------------------------------------
def config_problem(where: str, shown: str | None, message: str) -> str:
    """One config problem: ``selfreg.toml: checks[0].interval = "x": not a duration``."""
    return f"{where}: {message}" if shown is None else f"{where} = {shown}: {message}"


def config_has_problems(problems: Sequence[str]) -> str:
    """``ConfigError``: every problem found, one per indented line."""
    noun = "problem" if len(problems) == 1 else "problems"
    lines = "\n".join(f"  {p}" for p in problems)
    return f"the configuration has {len(problems)} {noun}:\n{lines}"


# ---- config problems: reading the files ------------------------------------------------------
def no_such_file() -> str:
    return "no such file"


def not_valid_toml(error: str) -> str:
    return f"not valid TOML: {error}"


def bundled_example_missing() -> str:
    return "the bundled example config is missing from this installation"


# ---- config problems: the environment --------------------------------------------------------
def expected_slack_mode() -> str:
    return "expected socket, http, post or off"


def slack_mode_needs_it(mode: str) -> str:
    """A token the chosen Slack mode needs, missing from the environment."""
    return f"Slack {mode} mode needs it"


def slack_channel_needed() -> str:
    return "Slack needs an alert channel: set SLACK_CHANNEL or [slack] channel"


def expected_port() -> str:
    return "expected a port number 0-65535"


def expected_log_level() -> str:
    return "expected DEBUG, INFO, WARNING or ERROR"


def expected_http_url() -> str:
    return "expected an http(s) URL"


# ---- config problems: sections ---------------------------------------------------------------
def maintenance_one_form() -> str:
    return "give either start and end, or cron and duration"


def escalation_out_of_order() -> str:
    return "escalation steps must be in order of `after`"


def unknown_permission_commands(unknown: Sequence[str]) -> str:
    return f"unknown commands in permissions: {', '.join(unknown)}"


def one_health_probe() -> str:
    return "give exactly one of http, tcp or process = true"


def unknown_kind(noun: str, known: Sequence[str], nearest: str | None = None) -> str:
    """A ``[[checks]]`` or ``[[actions]]`` entry whose ``kind`` no plugin has."""
    guess = f"did you mean `{nearest}`? " if nearest else ""
    return f"unknown {noun} kind; {guess}known kinds: {', '.join(known)}"


# ---- config problems: what spans sections ----------------------------------------------------
def name_used_twice(section: str, name: str) -> str:
    return f'{section}: the name "{name}" is used twice'


def unknown_action_kind(action: str, kind: str, known: Sequence[str]) -> str:
    return f'actions "{action}": unknown kind "{kind}" (known: {", ".join(known) or "none yet"})'


def auto_needs_low_risk(action: str) -> str:
    return f'actions "{action}": mode "auto" needs risk "low" (medium and high risk need a person)'


def remediate_unknown(check: str, wanted: str) -> str:
    return f'checks "{check}": remediate names "{wanted}", which is not an [[actions]] entry'


# ---- the texts of bot.errors' classes -------------------------------------------------------
def unknown_check(name: str, known: Sequence[str]) -> str:
    return f'no check is named "{name}"; configured checks: {", ".join(known) or "none"}'


def web_token_missing(host: str) -> str:
    return (
        f"the web server would listen on {host}, beyond this machine, so every route but "
        "/health needs a token: set SELFREG_WEB_TOKEN, or bind 127.0.0.1"
    )


def store_unopenable(path: str, reason: str) -> str:
    return f"cannot open the store {path}: {reason}"


def delivery_failed(channel: str, reason: str) -> str:
    """A notifier's failure, as the outbox records it: ``slack: ratelimited``."""
    return f"{channel}: {reason}"


def file_failed(path: str, reason: str) -> str:
    """A backup or restore failure: the file, then why."""
    return f"{path}: {reason}"


def restore_while_running() -> str:
    return (
        "selfreg is running with this data folder; stop it before restoring (nothing was changed)"
    )


def fit_failed(fit: str, pid: int, error: str) -> str:
    return f"{fit} failed in worker process {pid}: {error}"


def unknown_component(name: str, known: Sequence[str]) -> str:
    return f'no component is named "{name}" (configured: {", ".join(known) or "none"})'


def bad_instance_count(name: str, wanted: int, most: int) -> str:
    return f"component {name} can run 1 to {most} instances, not {wanted}"


def unknown_action(name: str, known: Collection[str]) -> str:
    return f'no action is named "{name}"; configured actions: {", ".join(sorted(known)) or "none"}'


def incident_not_found(incident_id: int) -> str:
    return f"there is no incident #{incident_id}"


def incident_closed(incident_id: int) -> str:
    return f"incident #{incident_id} is already resolved"


def silence_not_found(silence_id: int) -> str:
    return f"there is no active silence #{silence_id}"


def start_in_progress(data_dir: str) -> str:
    """A ``selfreg start`` while another one is still starting selfreg in the same folder."""
    return (
        f"another `selfreg start` is starting selfreg with data folder {data_dir} right now: "
        "`selfreg status` tells when it runs"
    )


def already_running_socket(socket_path: str) -> str:
    """A second selfreg on a data folder whose control socket answers."""
    return f"selfreg already runs with this data folder (control socket {socket_path})"


def slack_rejected_token(error: str) -> str:
    return (
        f"Slack rejected SLACK_BOT_TOKEN ({error}): check the token in the environment "
        "(it starts with xoxb-) and that the app is installed in the workspace"
    )


def unreadable_command(error: str) -> str:
    """A slash command whose quoting cannot be read."""
    return f"cannot read that: {error}"


# ---- silence matchers (``/selfreg silence``) ---------------------------------------------------
def bad_matcher_part(part: str) -> str:
    return f"cannot read '{part}': use check=GLOB, subject=GLOB or severity=LEVEL"


def matcher_needed() -> str:
    return "a silence needs a matcher, such as check=api-health"


def bad_severity() -> str:
    return "severity is one of info, warning, error, critical"


def no_component_named(name: str) -> str:
    """An action asked about a component the supervisor does not have."""
    return f'no component is named "{name}"'
