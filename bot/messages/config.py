"""What is wrong in a config file or the environment: the message of each config problem.

``bot.config`` finds the problem and names where it is (file, key path, value); the words
that say what is wrong are here. ``errors.config_problem`` lays one problem out on its line.
"""

from __future__ import annotations

from collections.abc import Sequence


# ---- reading the files -----------------------------------------------------------------------
def no_such_file() -> str:
    return "no such file"


def not_valid_toml(error: str) -> str:
    return f"not valid TOML: {error}"


def bundled_example_missing() -> str:
    return "the bundled example config is missing from this installation"


# ---- the environment -------------------------------------------------------------------------
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


# ---- sections ------------------------------------------------------------------------------
def maintenance_one_form() -> str:
    return "give either start and end, or cron and duration"


def escalation_out_of_order() -> str:
    return "escalation steps must be in order of `after`"


def unknown_permission_commands(unknown: Sequence[str]) -> str:
    return f"unknown commands in permissions: {', '.join(unknown)}"


def one_health_probe() -> str:
    return "give exactly one of http, tcp or process = true"


def unknown_kind(noun: str, known: Sequence[str]) -> str:
    """A ``[[checks]]`` or ``[[actions]]`` entry whose ``kind`` no plugin has."""
    return f"unknown {noun} kind; known kinds: {', '.join(known)}"


# ---- what spans sections (names, references) -------------------------------------------------
def name_used_twice(section: str, name: str) -> str:
    return f'{section}: the name "{name}" is used twice'


def unknown_action_kind(action: str, kind: str, known: Sequence[str]) -> str:
    return f'actions "{action}": unknown kind "{kind}" (known: {", ".join(known) or "none yet"})'


def auto_needs_low_risk(action: str) -> str:
    return f'actions "{action}": mode "auto" needs risk "low" (medium and high risk need a person)'


def remediate_unknown(check: str, wanted: str) -> str:
    return f'checks "{check}": remediate names "{wanted}", which is not an [[actions]] entry'
