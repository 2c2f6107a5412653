"""The lines selfreg writes to its log for the operator: components, checks, deliveries, Slack.

Each function returns the whole line (the caller passes it to ``log.info`` / ``warning`` /
``error``). Debug lines meant for developers stay where they are logged.
"""

from __future__ import annotations

from collections.abc import Sequence


# ---- components (the supervisor) -------------------------------------------------------------
def component_start_failed(name: str, error: str) -> str:
    return f"component {name} could not start: {error}"


def component_spawned(label: str, pid: int) -> str:
    return f"component {label} started, pid {pid}"


def component_adopted(label: str, pid: int) -> str:
    return f"component {label} adopted, pid {pid}"


def component_command_changed(name: str, pid: int) -> str:
    return f"component {name}: the command changed, stopping old pid {pid}"


def component_unconfigured(name: str, index: int, pid: int) -> str:
    """A copy an earlier selfreg left running for a component (or copy) no longer configured."""
    return f"component {name}-{index} is no longer configured: stopping pid {pid}"


def component_not_restarted(label: str, code: int | None) -> str:
    return f"component {label} exited with {code}; not restarted"


def component_restarted_after(label: str, code: int | None, lived: float, delay: float) -> str:
    return f"component {label} exited with {code} after {lived:.1f}s; restarted after {delay:.1f}s"


def component_crash_looping(name: str, exits: int, window: float) -> str:
    return f"component {name}: {exits} exits within {window:.0f}s, restarts stopped"


def crash_loop_hook_failed(name: str) -> str:
    return f"the crash-loop hook failed for component {name}"


def component_unready(label: str, took: float) -> str:
    return f"component {label} is not ready after {took:.1f}s"


def supervisor_task_failed(task: str) -> str:
    return f"supervisor task {task} failed"


def pid_polled(pid: int) -> str:
    return f"pidfd_open is unavailable: pid {pid} is polled every second"


def sigkill_after(pid: int, timeout: float) -> str:
    return f"pid {pid} ignored SIGTERM for {timeout:.1f}s: SIGKILL"


def output_rotated(path: str) -> str:
    return f"rotated {path}"


def output_not_rotated(path: str, error: str) -> str:
    return f"could not rotate {path}: {error}"


# ---- checks, actions, models -----------------------------------------------------------------
def check_overran(name: str) -> str:
    return f"check {name} is still running; skipping this turn"


def action_raised(name: str) -> str:
    return f"action {name} raised"


def remediation_step_failed() -> str:
    return "remediation step failed"


def retrain_failed(model: str) -> str:
    """``anomaly`` or ``failure-risk``: a retrain raised; the models fitted before stay."""
    return f"{model} retrain failed; the previous models stay"


def model_state_unsaved(error: str) -> str:
    return f"cannot save model state: {error}"


# ---- deliveries (the outbox and its channels) ------------------------------------------------
def row_failed_for_good(row: int, channel: str, reason: str) -> str:
    return f"outbox row {row} to {channel} failed for good: {reason}"


def row_retrying(row: int, channel: str, reason: str, delay: float) -> str:
    return f"outbox row {row} to {channel}: {reason}; retrying in {delay:.0f}s"


def row_raised(row: int, channel: str) -> str:
    return f"outbox row {row} to {channel} raised"


def row_posted(row: int, where: str) -> str:
    return f"outbox row {row} posted to {where}"


def row_recipients_refused(row: int, refused: Sequence[str]) -> str:
    return f"outbox row {row}: recipients refused: {list(refused)}"


def row_mailed(row: int, to: Sequence[str]) -> str:
    return f"outbox row {row} mailed to {', '.join(to)}"


# ---- Slack -----------------------------------------------------------------------------------
def slack_auth_failed(error: str) -> str:
    return f"Slack auth.test failed ({error}); messages wait in the outbox"


def slack_unreachable_log(error: str) -> str:
    return f"Slack is unreachable ({error}); messages wait in the outbox"


def slack_asked_reconnect(reason: str | None) -> str:
    return f"Slack asked to reconnect: {reason}"


def slack_socket_down(reason: str | None, delay: float) -> str:
    return f"Slack socket down ({reason or 'no reason given'}); reconnecting in {delay:.0f}s"


def slack_reconnect_failed(error: str) -> str:
    return f"Slack reconnect failed: {error}"


def user_group_unlisted(group: str, error: str | None) -> str:
    return f"cannot list user group {group}: {error}"


def slack_row_unknown_kind(row: int, kind: str) -> str:
    return f"slack: outbox row {row} has unknown kind {kind}; skipped"


def slack_blocks_rejected(errors: object) -> str:
    return f"slack rejected a message's blocks ({errors}); sent as text"


def slack_post_found_again(key: str) -> str:
    return f"slack: {key} was posted before a restart; found it again"


def slack_post_not_looked_up(key: str, error: str | None) -> str:
    return f"slack: cannot look for {key} after a restart ({error}); posting it again"
