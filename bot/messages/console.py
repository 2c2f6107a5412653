"""Terminal lines: ``selfreg run`` / ``start`` / ``stop`` progress and the status screen's words.

Wording only: the column widths, padding and colours of tables live in ``bot.cli.tables``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bot.messages.common import (
    clock_time,
    human_duration,
    mention_user,
    ms,
    plural,
    subject_label,
)

STATUS_MARK = {"ok": "OK", "warning": "WARN", "critical": "CRIT", "unknown": "UNKN"}


def started(
    config_files: Sequence[str],
    checks: int,
    components: int,
    web_url: str,
    detached: bool = False,
    data_dir: str = "var",
) -> str:
    """The start-up's last line. The stop command names a data folder other than the
    default, since a bare `selfreg stop` would look in ./var, find none and exit 0."""
    files = " + ".join(config_files)
    stop = "selfreg stop" if data_dir == "var" else f"selfreg stop --data-dir {data_dir}"
    how = f"`{stop}` stops it" if detached else "Ctrl-C stops it"
    return (
        f"selfreg is running: {plural(checks, 'check')}, {plural(components, 'component')}, "
        f"config {files}; "
        f"status at {web_url}/status ({how})"
    )


def config_valid(files: Sequence[str], checks: int, components: int, actions: int) -> str:
    """``selfreg config check`` on a good config."""
    counts = ", ".join(
        (plural(checks, "check"), plural(components, "component"), plural(actions, "action"))
    )
    return f"{' + '.join(files)}: valid ({counts})"


def config_problems_found(count: int) -> str:
    return f"{count} problem(s) found; selfreg would not start."


def stopped() -> str:
    return "selfreg stopped."


def health_verdict(counts: Mapping[str, int]) -> str:
    total = sum(counts.values())
    parts = [f"{counts[s]} {s}" for s in ("ok", "warning", "critical", "unknown") if counts.get(s)]
    return f"{total} observations: " + (", ".join(parts) or "none")


STEP_MARK = {"ok": "ok", "warn": "warn", "skip": "skip", "fail": "FAIL"}


def startup_header(config_files: Sequence[str], data_dir: str) -> str:
    return f"selfreg is starting: config {' + '.join(config_files)}, data folder {data_dir}"


def startup_step(mark: str, name: str, width: int, detail: str, seconds: float) -> str:
    """One start-up step as it ends: ``  ok    web port      127.0.0.1:8787 is free  (0 ms)``."""
    return f"  {STEP_MARK.get(mark, mark):<4}  {name:<{width}}  {detail}  ({ms(seconds)})"


def start_failed(step: str, reason: str) -> str:
    return (
        f"selfreg did not start: {step} failed: {reason}\n"
        "Everything it had started is stopped again; nothing is left running."
    )


def start_interrupted(step: str) -> str:
    return f"the start was interrupted at step {step!r}: stopped again, nothing is left running"


def slack_off() -> str:
    return "Slack is off (no SLACK_BOT_TOKEN)"


def slack_token_ok(user: str, team: str) -> str:
    return f"accepted: {user or 'the bot'} in {team or 'the workspace'}"


def slack_unreachable() -> str:
    return "could not ask Slack (unreachable?): starting anyway, messages wait in the outbox"


def store_schema_current(count: int) -> str:
    """The start-up step "store schema" when no migration is pending."""
    return f"up to date ({count} migrations applied before)"


def store_migrated(names: list[str]) -> str:
    """The start-up step "store schema" after it applied ``names``."""
    shown = ", ".join(names) if len(names) <= 3 else f"{names[0]} .. {names[-1]}"
    return f"{len(names)} migration{'s' if len(names) != 1 else ''} applied ({shown})"


def store_migration_failed(code: int | None, reason: str) -> str:
    return f"the migrations failed (exit {code}): {reason}; the store is as the backup left it"


def store_and_servers(db: str, web_url: str, socket_path: str, slack: str) -> str:
    return f"store {db}, web {web_url}, control socket {socket_path}, Slack {slack}"


def component_step(snapshot: Mapping[str, Any], adopted: bool, health: str) -> tuple[str, str]:
    """A component's start-up step: (mark, detail)."""
    pids = ", ".join(str(i["pid"]) for i in snapshot.get("instances", []) if i.get("pid")) or "-"
    status = snapshot["status"]
    if adopted:
        return "ok", f"adopted pid {pids}: still running from the previous selfreg"
    if status == "running":
        return "ok", f"{'ready' if health else 'running'}, pid {pids}{health}"
    if status == "unready":
        return "warn", f"running, pid {pids}, but not ready{health}: selfreg keeps watching it"
    if status == "failed":
        return "fail", "could not be started (see the log above)"
    return "warn", f"{status} (exit code {snapshot.get('last_exit_code')}): selfreg restarts it"


def monitors_started(checks: int, intervals: Sequence[str], jobs: Sequence[str]) -> str:
    runs = f"{checks} checks every {', '.join(intervals)}" if checks else "no checks"
    return f"{runs}; jobs: {', '.join(jobs)}"


def first_health(counts: Mapping[str, int], waiting: Sequence[str]) -> str:
    parts = [f"{counts[s]} {s}" for s in ("ok", "warning", "critical", "unknown") if counts.get(s)]
    text = ", ".join(parts) or "no checks configured"
    if waiting:
        text += f"; still running: {', '.join(waiting)}"
    return text


def starting_in_background(log_path: str) -> str:
    return f"Starting selfreg in the background; its output goes to {log_path}"


def start_exited(code: int | None, log_path: str) -> str:
    return f"selfreg did not start (exit code {code}); its log: {log_path}"


def start_timed_out(seconds: float, log_path: str) -> str:
    return (
        f"selfreg did not report running within {human_duration(seconds)}: stopped it again "
        f"(raise --timeout if its components start slowly); its log: {log_path}"
    )


def not_running(data_dir: str) -> str:
    return f"selfreg is not running (data folder {data_dir})."


def stale_pid_file(path: str, pid: int) -> str:
    return f"Removed the stale pid file {path}: pid {pid} is not a running selfreg."


def stopping(pid: int) -> str:
    return f"Stopping selfreg (pid {pid}) ..."


def stopped_after(pid: int, seconds: float) -> str:
    return f"selfreg (pid {pid}) stopped in {ms(seconds)}."


def killed_after(pid: int, timeout: float) -> str:
    return f"selfreg (pid {pid}) did not stop within {human_duration(timeout)}: killed (SIGKILL)."


def leftovers_stopped(labels: Sequence[str]) -> str:
    return f"Stopped what it left running: {', '.join(labels)}."


def not_stopped(pid: int) -> str:
    return f"selfreg (pid {pid}) is still there after SIGKILL; look at it with `ps -p {pid}`."


def heartbeat_line(beat: Mapping[str, Any]) -> str:
    """The heartbeat on the status screen: counts and the last error, never the URL."""
    line = f"Heartbeat: {beat['sent']} sent, {beat['failed']} failed"
    return line + (f" (last: {beat['last_error']})." if beat.get("last_error") else ".")


def last_backup(backup: Mapping[str, Any], now: float) -> str:
    if not backup.get("at"):
        return "Last backup: none yet."
    where = f", {backup['path']}" if backup.get("path") else ""
    return (
        f"Last backup: {clock_time(backup['at'])} "
        f"({human_duration(now - backup['at'])} ago){where}."
    )


def status_head(status: Mapping[str, Any], now: float) -> str:
    source = "running instance" if status.get("running") else "store (selfreg is not running)"
    head = f"selfreg status from the {source}"
    me = status.get("selfreg") or {}
    if status.get("running") and me.get("pid"):
        up = f", up {human_duration(now - me['started_at'])}" if me.get("started_at") else ""
        head += f": pid {me['pid']}{up}, version {me.get('version', '?')}"
    return head


def reload_not_running(data_dir: str) -> str:
    """``selfreg reload`` with nothing running: the next start reads the file anyway."""
    return f"selfreg is not running with data folder {data_dir}; the next start reads the config."


# ---- the status screen and the start-up summary (laid out by bot.cli.tables) ---------------
OBSERVATION_COLUMNS = ("STATUS", "CHECK", "DETAIL")
CHECK_COLUMNS = ("STATUS", "CHECK", "SINCE", "LAST RUN", "DETAIL")
COMPONENT_COLUMNS = ("COMPONENT", "STATUS", "PID", "UPTIME", "RESTARTS", "LAST EXIT")


def ago(duration: str) -> str:
    """A check's last run on the status screen: ``4 m ago``."""
    return f"{duration} ago"


def checks_heading(counts: Mapping[str, int]) -> str:
    return "Checks: " + first_health(counts, [])


def no_check_yet() -> str:
    return "No check has run yet."


def open_incidents_heading(count: int) -> str:
    return f"Open incidents: {count}"


def status_incident_line(incident: Mapping[str, Any], now: float) -> str:
    """One open incident under the status screen's heading."""
    what = subject_label(incident["check"], incident["subject"])
    return (
        f"  #{incident['id']}  {incident['severity'].upper():<8}  {what}  "
        f"{incident['state']} for {human_duration(now - incident['opened_at'])}: "
        f"{incident['summary']}"
    )


def pending_approvals_heading(count: int) -> str:
    return f"Pending approvals: {count}"


def approve_command(proposal_id: int) -> str:
    """The command that approves a proposal, as every hint prints it (what `approve` accepts)."""
    return f"selfreg approve {proposal_id}"


def deny_command(proposal_id: int) -> str:
    return f"selfreg deny {proposal_id}"


def status_approval_line(proposal: Mapping[str, Any]) -> str:
    """One pending approval, with the command that approves it."""
    about = f" for incident #{proposal['incident_id']}" if proposal.get("incident_id") else ""
    return (
        f"  #{proposal['id']}  {proposal['action']}{about} ({proposal['risk']} risk), "
        f"expires {clock_time(proposal['expires_at'])}: `{approve_command(proposal['id'])}`"
    )


def console_proposal(proposal_id: int, action: str, risk: str, expires_at: float) -> str:
    """The console line under an incident whose fix waits for a person."""
    return (
        f"Proposed fix #{proposal_id}: {action} ({risk} risk). "
        f"Approve: `{approve_command(proposal_id)}` · deny: `{deny_command(proposal_id)}` "
        f"(expires {clock_time(expires_at)})"
    )


def console_crash_loop(component: str, incident_id: int) -> str:
    """The console line under a crash loop: what Slack's buttons do, as commands."""
    return (
        f"It stays stopped until started: `selfreg component start {component}` restarts it "
        f"(and closes this incident) · `selfreg ack {incident_id}` stops the escalation"
    )


def console_fixed_by(action: str, actor: str) -> str:
    """Added to a resolved incident's console line: the fix that ran and who decided it."""
    who = "automatically" if actor == "selfreg" else f"approved by {mention_user(actor)}"
    return f" · fixed by {action}, {who}"


def failing_line(failing: Sequence[Mapping[str, Any]]) -> str:
    """The status screen's last line: ``2 failing: api-health, disk /data``."""
    names = ", ".join(subject_label(f["check"], f["subject"]) for f in failing)
    return f"{len(failing)} failing" + (f": {names}" if failing else "")


def startup_checks_line(counts: Mapping[str, int], failing: Sequence[Mapping[str, Any]]) -> str:
    """The start-up summary's line under the components table."""
    line = "checks: " + first_health(counts, [])
    if failing:
        line += " · failing: " + ", ".join(subject_label(f["check"], f["subject"]) for f in failing)
    return line


def never_ran(data_dir: str) -> str:
    return f"selfreg has not run with the data folder {data_dir} yet."


# ---- the selfreg command's own lines --------------------------------------------------------
def cli_error(text: str) -> str:
    """Any refusal or failure the ``selfreg`` command prints on standard error."""
    return f"selfreg: {text}"


def bad_option(option: str, text: str, error: str) -> str:
    """An option value the CLI cannot read: ``--since = 'x': ...``."""
    return f"{option} = {text!r}: {error}"


def metric_line(what: str, metric: str, value: float) -> str:
    """``selfreg check run``: one line per metric value under the table."""
    return f"  {what} {metric} = {value:g}"


def nothing_to_verify() -> str:
    return "No store yet: nothing to verify."


def audit_tampered(row: int, reason: str) -> str:
    return f"audit row {row} is tampered: {reason}"


def fitted_where(running: bool) -> str:
    """Where ``selfreg models train`` fitted the models (``models_trained``'s ``where``)."""
    return "by the running instance" if running else "here (no instance is running)"


# ---- start-up step details (bot.prerequisites, bot.startup) ---------------------------------
def no_components() -> str:
    return "no components configured"


def executables_found(count: int, names: str) -> str:
    return f"found for {count} component(s): {names}"


def data_folder_writable(path: str, free: int) -> str:
    return f"{path} is writable ({free / 2**30:.1f} GB free)"


def web_loopback(host: str) -> str:
    return f"{host} is loopback: only this machine reaches it"


def web_token_needed(host: str) -> str:
    return f"{host}: every route but /health needs SELFREG_WEB_TOKEN"


def web_any_port(host: str) -> str:
    return f"{host}: any free port"


def web_port_free(host: str, port: int) -> str:
    return f"{host}:{port} is free"


def pid_file_replaced(stale_pid: int | None) -> str:
    """Noted when ``selfreg run`` replaces a pid file whose selfreg is gone."""
    return f" (replaced a stale one of pid {stale_pid})" if stale_pid is not None else " (replaced)"
