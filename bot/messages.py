"""Every sentence an operator reads, in one place: the console, the CLI and the web replies.

Small pure functions, so wording is reviewed here and tests assert on it.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bot.terminal import paint
from common.units import format_duration

STATUS_MARK = {"ok": "OK", "warning": "WARN", "critical": "CRIT", "unknown": "UNKN"}


def clock_time(at: float) -> str:
    """Local wall-clock time of day, as the console and tables show it."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at))


def subject_label(check: str, subject: str) -> str:
    """``api-health`` or ``host /data`` for a check's subject."""
    return f"{check} {subject}" if subject else check


def started(
    config_files: Sequence[str], checks: int, components: int, web_url: str, detached: bool = False
) -> str:
    files = " + ".join(config_files)
    how = "`selfreg stop` stops it" if detached else "Ctrl-C stops it"
    return (
        f"selfreg is running: {_count(checks, 'check')}, {_count(components, 'component')}, "
        f"config {files}; "
        f"status at {web_url}/status ({how})"
    )


def config_valid(files: Sequence[str], checks: int, components: int, actions: int) -> str:
    """``selfreg config check`` on a good config."""
    counts = ", ".join(
        (_count(checks, "check"), _count(components, "component"), _count(actions, "action"))
    )
    return f"{' + '.join(files)}: valid ({counts})"


def config_problems_found(count: int) -> str:
    return f"{count} problem(s) found; selfreg would not start."


def stopped() -> str:
    return "selfreg stopped."


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A plain aligned text table."""
    rows = [list(map(str, row)) for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def observations_table(observations: Iterable[Mapping[str, Any]]) -> str:
    """The ``selfreg health`` / ``check run`` table: one row per check subject."""
    rows = [
        (
            STATUS_MARK.get(o["status"], o["status"]),
            subject_label(o["check"], o["subject"]),
            o["summary"],
        )
        for o in observations
    ]
    return table(("STATUS", "CHECK", "DETAIL"), rows)


def health_verdict(counts: Mapping[str, int]) -> str:
    total = sum(counts.values())
    parts = [f"{counts[s]} {s}" for s in ("ok", "warning", "critical", "unknown") if counts.get(s)]
    return f"{total} observations: " + (", ".join(parts) or "none")


# ---- incidents ---------------------------------------------------------------------------
def human_duration(seconds: float) -> str:
    """``"4 m 12 s"``, ``"2 h 5 m"``, ``"3 d 4 h"``: the two largest units (the sentence style)."""
    return format_duration(seconds, style="sentence")


def opened(summary: str) -> str:
    return f"Opened: {summary}"


def reopened(summary: str) -> str:
    return f"Failing again: {summary}"


def status_changed(previous: str, current: str, summary: str) -> str:
    return f"Now {current} (was {previous}): {summary}"


def resolved(after: float, summary: str) -> str:
    return f"Resolved after {human_duration(after)}: {summary}"


def acknowledged(actor: str) -> str:
    return f"Acknowledged by {mention_user(actor)}; escalation stopped."


def escalated(step: int, steps: int, after: float) -> str:
    return f"Escalation step {step} of {steps}: still open and not acknowledged after {human_duration(after)}."


def still_open(after: float) -> str:
    return f"Reminder: still open after {human_duration(after)}."


def ack_reminder(after: float) -> str:
    return f"Reminder: acknowledged {human_duration(after)} ago and still open."


def flapping(changes: int, window: float) -> str:
    return (
        f"Flapping: {changes} state changes within {human_duration(window)}. "
        "One message until it settles."
    )


def mention_user(actor: str) -> str:
    """A Slack mention for a user id, else the name as given (CLI users, 'selfreg')."""
    return f"<@{actor}>" if actor[:1] in ("U", "W") and actor.isalnum() else actor


def mention(target: str) -> str:
    """Slack mention syntax for user ids, user-group ids and @here / @channel."""
    if target in ("@here", "@channel", "@everyone"):
        return f"<!{target[1:]}>"
    if target.startswith("S") and target.isalnum():
        return f"<!subteam^{target}>"
    return mention_user(target)


def console_notice(at: float, severity: str, what: str, text: str) -> str:
    """One console line per incident event."""
    return f"{clock_time(at)}  {severity.upper():<8}  {what}  {text}"


def silenced(actor: str, until: float | None, reason: str) -> str:
    end = f"until {clock_time(until)}" if until is not None else "until it resolves"
    why = f" ({reason})" if reason else ""
    return f"Silenced by {mention_user(actor)} {end}{why}."


def silence_ended() -> str:
    return "Silence ended; alerting again."


# ---- Slack commands ----------------------------------------------------------------------
def command_help() -> str:
    return "\n".join(
        [
            "`/selfreg status`: checks with 24 h and 7 d availability, open incidents, components, silences",
            "`/selfreg health`: run every check now and show the result",
            "`/selfreg alerts`: open incidents",
            "`/selfreg ack ID`: acknowledge incident ID (stops its escalation)",
            "`/selfreg silence MATCHER DURATION [from=TIME] [reason]`: e.g. `/selfreg silence check=api* 2h deploy`; "
            "`from=2026-12-01T02:00Z` schedules a maintenance window",
            "`/selfreg unsilence ID`: end silence ID",
            "`/selfreg history [N]`: the last N incidents (default 10)",
            "`/selfreg run ACTION [INCIDENT]`: propose a configured action (run at once if you may approve it)",
            "`/selfreg actions [pause|resume]`: actions with their policy and budget; admins pause or resume all",
            "`/selfreg audit [INCIDENT|USER]`: the recent audit trail",
            "`/selfreg reload`: reload the config file now (admins)",
            "`/selfreg predict [CHECK]`: current anomalies, failure risks and forecasts",
            "`/selfreg help`: this text",
        ]
    )


def unknown_command(word: str) -> str:
    return f"I don't know `{word}`. Here is what I can do:"


def bad_arguments(usage: str, problem: str) -> str:
    return f"{problem}. Usage: `{usage}`"


def not_allowed(command: str) -> str:
    return f"You may not run `{command}`: ask an admin to add you (or your user group) to [slack.permissions] {command}."


def health_started(count: int) -> str:
    return f"Running {count} checks now; the result follows here."


def acknowledged_reply(incident_id: int) -> str:
    return f"Incident #{incident_id} acknowledged; escalation stopped."


def silence_added(silence_id: int, matcher: str, until: float) -> str:
    return f"Silence #{silence_id} added for {matcher} until {clock_time(until)}."


def silence_removed(silence_id: int) -> str:
    return f"Silence #{silence_id} removed."


def button_not_for_this_message(incident_id: int) -> str:
    return f"That button does not belong to incident #{incident_id}'s message; nothing changed."


def button_stale(reason: str) -> str:
    return f"Nothing changed: {reason}."


# ---- email and webhook -------------------------------------------------------------------
def utc_time(at: float) -> str:
    """``2026-03-01 14:05:09 UTC``: mail and webhooks reach people in other time zones."""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))


def error_text(exc: BaseException) -> str:
    """An exception as a reason; some (a bare ``TimeoutError``) have no text of their own."""
    return str(exc) or type(exc).__name__


def email_subject(severity: str, what: str, text: str, limit: int = 120) -> str:
    """``[CRITICAL] api-health: Opened: HTTP 503 ...`` on one line, at most ``limit`` long."""
    subject = " ".join(f"[{severity.upper()}] {what}: {text}".split())
    return subject if len(subject) <= limit else subject[: limit - 3].rstrip() + "..."


def email_body(text: str, incident: Mapping[str, Any]) -> str:
    """The plain-text email: what happened, then the incident's facts, one per line."""
    rows = [
        ("Severity", incident["severity"]),
        ("What", subject_label(incident["check"], incident["subject"])),
        ("State", f"{incident['state']} (status {incident['status']})"),
        ("First seen", utc_time(incident["opened_at"])),
        ("Last seen", utc_time(incident["last_seen_at"])),
        ("Failing runs", str(incident["count"])),
        ("Summary", incident["summary"]),
    ]
    if incident.get("resolved_at") is not None:
        rows.append(("Resolved", utc_time(incident["resolved_at"])))
    if incident.get("acked_by"):
        rows.append(("Acknowledged by", incident["acked_by"]))
    if incident.get("runbook_url"):
        rows.append(("Runbook", incident["runbook_url"]))
    width = max(len(label) for label, _ in rows) + 2
    facts = [f"{label + ':':<{width}}{value}" for label, value in rows]
    return "\n".join([text, "", *facts, "", f"Incident #{incident['id']}, sent by selfreg."]) + "\n"


def log_not_written(path: str, error: str) -> str:
    return f"cannot append to {path}: {error}"


def smtp_unreachable(host: str, port: int, error: str) -> str:
    return f"cannot reach the SMTP server {host}:{port}: {error}"


def smtp_refused(code: int, detail: str) -> str:
    return f"the SMTP server refused with {code}: {detail}"


def smtp_recipients_refused(refused: Mapping[str, tuple[int, str]]) -> str:
    each = ", ".join(f"{who} ({code} {detail})" for who, (code, detail) in refused.items())
    return f"the SMTP server refused every recipient: {each}"


def smtp_unsupported(host: str, detail: str) -> str:
    return f"the SMTP server {host} cannot do what [alerts.email] asks: {detail}"


def smtp_password_missing() -> str:
    return "[alerts.email] username is set but SELFREG_SMTP_PASSWORD is empty"


def certificate_untrusted(host: str, detail: str) -> str:
    return f"the certificate of {host} is not trusted: {detail}"


def webhook_answered(host: str, status: int, detail: str) -> str:
    return f"the webhook at {host} answered HTTP {status}" + (f": {detail}" if detail else "")


def webhook_redirected(host: str, status: int, location: str) -> str:
    return (
        f"the webhook at {host} redirects (HTTP {status}) to {location or 'nowhere'}; "
        "set [alerts.webhook] url to the final address"
    )


def webhook_unreachable(host: str, error: str) -> str:
    return f"cannot reach the webhook at {host}: {error}"


def slack_post_mode() -> str:
    return (
        "Slack post mode: alerts are delivered to Slack, but commands and buttons are off "
        "(set SLACK_APP_TOKEN for socket mode, or SLACK_SIGNING_SECRET for HTTP mode)"
    )


# ---- remediation ---------------------------------------------------------------------------
def refusal_used(proposal_id: int, state: str, who: str) -> str:
    return f"Proposal #{proposal_id} is already {state}{who}; nothing changed."


def refusal_expired(proposal_id: int, at: float) -> str:
    return f"Proposal #{proposal_id} expired at {clock_time(at)}; nothing changed. Ask for a new one with /selfreg run."


def refusal_paused(by: str) -> str:
    return f"Actions are paused (kill switch, by {mention_user(by)}); nothing runs until an admin says /selfreg actions resume."


def refusal_mode(action: str, mode: str) -> str:
    return f"{action} is in {mode} mode: it is not run from a button."


def refusal_not_approver(action: str) -> str:
    return f"You are not an approver of {action}; nothing changed."


def refusal_budget(action: str, runs: int, budget: str) -> str:
    return (
        f"{action} has used its budget ({runs} runs per {budget.split('/')[1]}); the circuit breaker "
        "hands this incident to people. Nothing ran."
    )


def refusal_cooldown(action: str, until: float) -> str:
    return f"{action} is cooling down until {clock_time(until)}; nothing ran."


def refusal_same_person(proposal_id: int) -> str:
    return (
        f"You already approved proposal #{proposal_id}: a second, different person must approve it."
    )


def refusal_requester(proposal_id: int) -> str:
    return f"You asked for proposal #{proposal_id}: a high-risk action needs two other people."


def refusal_unknown_proposal(value: str) -> str:
    return f"There is no proposal {value}; nothing changed."


def first_approval(actor: str) -> str:
    return f"First approval by {mention_user(actor)} recorded; high risk needs a second person."


def approved_by(actor: str) -> str:
    return f"Approved by {mention_user(actor)}, running."


def denied_by(actor: str) -> str:
    return f"Denied by {mention_user(actor)}."


def shadow_would_run(what: str) -> str:
    return f"Shadow mode: would have run {what}. Nothing ran."


def suggested(what: str, action: str) -> str:
    return f"Suggested fix: {what}. Run it with `/selfreg run {action}`."


def denied_with_reason(actor: str, reason: str) -> str:
    return f"Denied by {mention_user(actor)}" + (f": {reason}" if reason else ".")


def proposal_expired(proposal_id: int) -> str:
    return f"Proposal #{proposal_id} expired unanswered."


def action_timed_out(seconds: float) -> str:
    return f"timed out after {human_duration(seconds)}"


def action_result(what: str, ok: bool, summary: str, output: str, dry_run: bool) -> str:
    head = "Dry run of" if dry_run else ("Ran" if ok else "Failed:")
    text = f"{head} {what}: {summary}"
    if output.strip():
        tail = output.strip()[-2500:]
        text += f"\n```{tail}```"
    return text


def verified(summary: str) -> str:
    return f"Verified: {summary}"


def not_effective(summary: str) -> str:
    return f"Not effective: the check still fails ({summary}). Escalating."


def offer_line(proposal: object, what: str, risk: str, left: int, budget: str) -> str:
    """The proposal's line on the incident message."""
    state = proposal.state.value
    approvals = proposal.approvals
    decided_by = proposal.decided_by
    window = budget.split("/")[1]
    if state == "proposed" and left == 0:
        return f"*Proposed fix:* {what}: budget used ({budget.split('/')[0]} per {window}); the circuit breaker hands this incident to people"
    if state == "proposed":
        extra = (
            f" · approved by {', '.join(mention_user(a) for a in approvals)}, needs a second person"
            if approvals
            else ""
        )
        return f"*Proposed fix:* {what} ({risk} risk · {left} of {budget.split('/')[0]} left per {window}){extra}"
    who = f" by {mention_user(decided_by)}" if decided_by else ""
    words = {
        "running": f"approved{who}, running",
        "succeeded": f"approved{who}, done; verifying",
        "failed": f"approved{who}, failed",
        "verified": f"approved{who}, verified",
        "not_effective": f"approved{who}, not effective",
        "denied": f"denied{who}",
        "expired": "expired unanswered",
        "approved": f"approved{who}",
    }
    return f"*Fix:* {what}: {words.get(state, state)}"


def offer_closing(proposal: object, what: str) -> str:
    """The note on a resolved message: "restart api approved by @dana, verified"."""
    state = proposal.state.value
    decided_by = proposal.decided_by
    if state not in ("verified", "not_effective", "succeeded"):
        return ""
    who = (
        f" by {mention_user(decided_by)}"
        if decided_by and decided_by != "selfreg"
        else " automatically"
    )
    return f"{what} approved{who}, {'verified' if state == 'verified' else state.replace('_', ' ')}"


def manual_run(proposal_id: int, action: str, reason: str, allowed: bool) -> str:
    if allowed:
        return f"Proposal #{proposal_id} ({action}): {reason}"
    return f"Proposal #{proposal_id} ({action}) is waiting: {reason}"


def admins_only(command: str) -> str:
    return f"Only admins may run `{command}`."


def kill_switch(paused: bool, actor: str) -> str:
    if paused:
        return f"Actions paused by {mention_user(actor)}: nothing runs, not even automatic fixes, until `/selfreg actions resume`."
    return f"Actions resumed by {mention_user(actor)}."


def no_actions_configured() -> str:
    return "No actions are configured: add [[actions]] to selfreg.toml."


def crash_loop(name: str, exits: int, window: float) -> str:
    return (
        f"Component {name} exited {exits} times within {human_duration(window)}: automatic "
        "restarts are stopped. Restart it anyway, or keep it stopped?"
    )


def restarted_anyway(actor: str, detail: str) -> str:
    return f"Restarted anyway by {mention_user(actor)}: {detail}"


def kept_stopped(actor: str) -> str:
    return f"Kept stopped by {mention_user(actor)}."


def silence_scheduled(silence_id: int, matcher: str, start: float, end: float) -> str:
    return f"Maintenance window #{silence_id} scheduled for {matcher}: {clock_time(start)} to {clock_time(end)}."


def file_size(size: int) -> str:
    """Bytes for people: ``2.4 MB``, ``812 kB``, ``90 B``."""
    for unit, factor in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size} B"


def backup_created(
    path: str,
    size: int,
    rows: int,
    tables: int,
    integrity: str,
    config_files: Sequence[str],
    copied_to: str | None,
    seconds: float,
) -> str:
    """What ``selfreg backup`` prints once the archive is written and checked."""
    lines = [
        f"Backup written: {path} ({file_size(size)}, {seconds:.2f} s)",
        f"  store: {rows} rows in {tables} tables, integrity_check {integrity}",
        f"  config: {', '.join(config_files) or 'none'}",
    ]
    if copied_to:
        lines.append(f"  copied to {copied_to}")
    return "\n".join(lines)


def backups_table(folder: str, backups: Sequence[tuple[str, float, int]]) -> str:
    """``selfreg backup list``: name, time (UTC) and size, newest first."""
    if not backups:
        return f"No backups in {folder} yet: `selfreg backup` makes one."
    rows = [(name, utc_time(at), file_size(size)) for name, at, size in backups]
    return f"{len(backups)} backups in {folder}, newest first:\n" + table(
        ("NAME", "TIME", "SIZE"), rows
    )


def restored(
    archive: str,
    store: str,
    created_at: float,
    rows: int,
    replaced: str | None,
    config_dir: str | None,
) -> str:
    """What ``selfreg restore`` prints: what it put back, and where the old store went."""
    lines = [
        f"Restored {store} from {archive} (made {utc_time(created_at)}, {rows} rows, "
        "integrity_check ok)."
    ]
    if replaced:
        lines.append(f"The store it replaced is kept as {replaced}.")
    else:
        lines.append("There was no store before: nothing was replaced.")
    if config_dir:
        lines.append(
            f"The archived config files are in {config_dir}; your config files were not "
            "changed: compare them and copy what you need."
        )
    return "\n".join(lines)


def backup_skipped_no_store(store: str) -> str:
    """The start-up backup step when selfreg has never run with this data folder."""
    return f"No store yet at {store}: nothing to back up before this first start."


def backup_step_off() -> str:
    """The start-up backup step when ``[backup] on_start`` is false."""
    return "Turned off ([backup] on_start = false)."


def backup_made_at_start(path: str, size: int, seconds: float) -> str:
    """The start-up backup step's line."""
    return f"Backed up the store to {path} ({file_size(size)}, {seconds:.2f} s)."


# ---- start-up, start / stop and the status screen -----------------------------------------
STEP_MARK = {"ok": "ok", "warn": "warn", "skip": "skip", "fail": "FAIL"}


def ms(seconds: float) -> str:
    """``"12 ms"`` under a second, ``"1.4 s"`` above: how long a step took."""
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


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
    up = f", up {human_duration(time.time() - since)}" if since else ""
    return (
        f"selfreg already runs with this data folder (pid {pid}{up}; pid file {pid_file}): "
        "`selfreg stop` or `selfreg restart` it"
    )


def slack_off() -> str:
    return "Slack is off (no SLACK_BOT_TOKEN)"


def slack_token_ok(user: str, team: str) -> str:
    return f"accepted: {user or 'the bot'} in {team or 'the workspace'}"


def slack_unreachable() -> str:
    return "could not ask Slack (unreachable?): starting anyway, messages wait in the outbox"


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


def startup_summary(status: Mapping[str, Any], now: float, colour: bool = False) -> str:
    """The closing table of the start-up: components, then the checks in one line."""
    lines = []
    components = status.get("components", [])
    if components:
        lines.append(_components_table(components, now, colour))
    counts: dict[str, int] = {}
    for check in status.get("checks", []):
        counts[check["status"]] = counts.get(check["status"], 0) + 1
    failing = status.get("failing", [])
    line = "checks: " + first_health(counts, [])
    if failing:
        line += " · failing: " + ", ".join(subject_label(f["check"], f["subject"]) for f in failing)
    lines.append(line)
    return "\n".join(lines)


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


def status_screen(status: Mapping[str, Any], now: float, colour: bool = False) -> str:
    """``selfreg status``: selfreg itself, components, checks by state, incidents, approvals."""
    lines = [_status_head(status, now)]
    components = status.get("components", [])
    if components:
        lines += ["", _components_table(components, now, colour)]
    checks = sorted(status.get("checks", []), key=_check_order)
    counts: dict[str, int] = {}
    for check in checks:
        counts[check["status"]] = counts.get(check["status"], 0) + 1
    lines += ["", "Checks: " + first_health(counts, [])]
    if checks:
        lines.append(
            styled_table(
                ("STATUS", "CHECK", "SINCE", "LAST RUN", "DETAIL"),
                (
                    (
                        STATUS_MARK.get(c["status"], c["status"]),
                        subject_label(c["check"], c["subject"]),
                        format_duration(max(now - c["confirmed_at"], 0)),
                        f"{format_duration(max(now - c['at'], 0))} ago",
                        c["summary"],
                    )
                    for c in checks
                ),
                paint_columns=(0,) if colour else (),
            )
        )
    else:
        lines.append("No check has run yet.")
    incidents = status.get("incidents", [])
    lines += ["", f"Open incidents: {len(incidents)}"]
    for incident in incidents:
        what = subject_label(incident["check"], incident["subject"])
        lines.append(
            f"  #{incident['id']}  {incident['severity'].upper():<8}  {what}  "
            f"{incident['state']} for {human_duration(now - incident['opened_at'])}: "
            f"{incident['summary']}"
        )
    approvals = status.get("pending_approvals", [])
    lines += ["", f"Pending approvals: {len(approvals)}"]
    for proposal in approvals:
        about = f" for incident #{proposal['incident_id']}" if proposal.get("incident_id") else ""
        lines.append(
            f"  #{proposal['id']}  {proposal['action']}{about} ({proposal['risk']} risk), "
            f"expires {clock_time(proposal['expires_at'])}: `selfreg approve {proposal['id']}`"
        )
    backup = status.get("last_backup")
    if backup is not None:
        lines += ["", last_backup(backup, now)]
    beat = status.get("heartbeat") or {}
    if beat.get("enabled"):
        lines += ["", heartbeat_line(beat)]
    failing = status.get("failing", [])
    lines.append("")
    lines.append(
        f"{len(failing)} failing"
        + (
            ": " + ", ".join(subject_label(f["check"], f["subject"]) for f in failing)
            if failing
            else ""
        )
    )
    return "\n".join(lines)


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


def _status_head(status: Mapping[str, Any], now: float) -> str:
    source = "running instance" if status.get("running") else "store (selfreg is not running)"
    head = f"selfreg status from the {source}"
    me = status.get("selfreg") or {}
    if status.get("running") and me.get("pid"):
        up = f", up {human_duration(now - me['started_at'])}" if me.get("started_at") else ""
        head += f": pid {me['pid']}{up}, version {me.get('version', '?')}"
    return head


def _check_order(check: Mapping[str, Any]) -> tuple[int, str, str]:
    rank = {"critical": 0, "unknown": 1, "warning": 2, "ok": 3}
    return rank.get(check["status"], 1), check["check"], check["subject"]


def _components_table(components: Sequence[Mapping[str, Any]], now: float, colour: bool) -> str:
    rows = []
    for c in components:
        instances = c.get("instances") or [c]
        pids = ", ".join(str(i["pid"]) for i in instances if i.get("pid")) or "-"
        up = (
            format_duration(max(now - c["started_at"], 0))
            if c.get("started_at") and c["status"] in ("running", "unready", "starting")
            else "-"
        )
        code = c.get("last_exit_code")
        rows.append(
            (c["name"], c["status"], pids, up, c.get("restarts", 0), "-" if code is None else code)
        )
    return styled_table(
        ("COMPONENT", "STATUS", "PID", "UPTIME", "RESTARTS", "LAST EXIT"),
        rows,
        paint_columns=(1,) if colour else (),
    )


def styled_table(
    headers: Sequence[str], rows: Iterable[Sequence[Any]], paint_columns: Sequence[int] = ()
) -> str:
    """``table``, with the state words of ``paint_columns`` in colour (padding kept right)."""
    text = table(headers, rows)
    if not paint_columns:
        return text
    lines = text.split("\n")
    starts = _column_starts(lines[0], headers)
    painted = [lines[0]]
    for line in lines[1:]:
        for index in sorted(paint_columns, reverse=True):
            begin = starts[index]
            end = starts[index + 1] if index + 1 < len(starts) else len(line)
            cell = line[begin:end]
            word = cell.rstrip()
            painted_cell = paint(word, True) + cell[len(word) :]
            line = line[:begin] + painted_cell + line[end:]
        painted.append(line)
    return "\n".join(painted)


def _column_starts(header: str, headers: Sequence[str]) -> list[int]:
    starts, at = [], 0
    for name in headers:
        at = header.index(name, at)
        starts.append(at)
        at += len(name)
    return starts


# ---- notices: config reload, lifecycle, heartbeat ----------------------------------------
def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def selfreg_started(checks: int, components: int) -> str:
    return f"selfreg started: {_count(checks, 'check')}, {_count(components, 'component')}"


def selfreg_stopping(uptime: float) -> str:
    return f"selfreg stopped after {human_duration(uptime)}; its components stop with it."


def recovered_from_crash(
    previous_start: float,
    adopted: Sequence[tuple[str, int]],
    incidents: Sequence[tuple[int, str]],
    approvals: Sequence[tuple[int, str]],
) -> str:
    """What selfreg found after a run that ended without stopping (kill -9, OOM, power)."""
    parts = [
        f"selfreg recovered from a crash: the run started {utc_time(previous_start)} never stopped"
    ]
    if adopted:
        parts.append(
            "re-adopted " + ", ".join(f"component {name} (pid {pid})" for name, pid in adopted)
        )
    else:
        parts.append("no running component to re-adopt")
    if incidents:
        listed = ", ".join(f"#{i} {check}" for i, check in incidents)
        parts.append(f"resumed {_count(len(incidents), 'open incident')} ({listed})")
    if approvals:
        listed = ", ".join(f"#{i} {action}" for i, action in approvals)
        parts.append(f"{_count(len(approvals), 'pending approval')} ({listed})")
    return "; ".join(parts) + "."


def config_changes(changes: Sequence[str], settings: Sequence[str], restart: Sequence[str]) -> str:
    """``config reloaded: + check disk, − check old-api, ~ component api (command)``."""
    parts = list(changes)
    if settings:
        parts.append("~ " + ", ".join(settings))
    text = "config reloaded: " + (", ".join(parts) if parts else "no change applied")
    if restart:
        text += f"; needs a restart: {', '.join(restart)}"
    return text


def config_unchanged() -> str:
    return "config reloaded: no change."


def config_refused(problems: Sequence[str]) -> str:
    """The same lines ``selfreg config check`` prints, and what selfreg does about them."""
    noun = "problem" if len(problems) == 1 else "problems"
    lines = "\n".join(problems)
    return (
        f"config reload refused ({len(problems)} {noun}); selfreg keeps running on the "
        f"previous config:\n{lines}"
    )


def config_reload_failed(error: str) -> str:
    return f"config reload failed part-way ({error}); see selfreg's log."


def removed_from_config(what: str) -> str:
    return f"Resolved: {what} was removed from the config."


def reload_in_progress() -> str:
    return "Reloading the config; the result is posted in the channel."


def reload_unavailable() -> str:
    return "This selfreg cannot reload its config."


# ---- predictions (bot.engine.predict) -------------------------------------------------------


def _shares(items: Sequence[tuple[str, float]]) -> str:
    return ", ".join(f"{name} {share:.0%}" for name, share in items)


def anomaly_summary(
    metric: str,
    value: float,
    low: float,
    high: float,
    score: float,
    threshold: float,
    top: Sequence[tuple[str, float]],
) -> str:
    """``latency is unusual: 2.4 (usually 0.04 to 0.09) · score 0.83 (threshold 0.50)``."""
    text = (
        f"{metric} is unusual: {value:.4g} (usually {low:.4g} to {high:.4g}) · "
        f"score {score:.2f} (threshold {threshold:.2f})"
    )
    return f"{text} · contributing: {_shares(top)}" if top else text


def group_anomaly_summary(
    metrics: int, score: float, threshold: float, top: Sequence[tuple[str, float]]
) -> str:
    """An unusual combination of a subject's metrics, none unusual on its own."""
    text = (
        f"an unusual combination of its {metrics} metrics · score {score:.2f} "
        f"(threshold {threshold:.2f})"
    )
    return f"{text} · contributing: {_shares(top)}" if top else text


def forecast_summary(
    metric: str,
    subject: str,
    limit_name: str,
    limit: float,
    eta: float,
    low: float,
    high: float,
) -> str:
    """``disk /data reaches 95% (critical) in about 3 h 10 m, between 2 h 40 m and 3 h 50 m``."""
    percent = metric.endswith("_percent")
    what = f"{metric.removesuffix('_percent')} {subject}".strip()
    later = "later" if high == float("inf") else human_duration(high)
    return (
        f"{what} reaches {limit:.4g}{'%' if percent else ''} ({limit_name}) in about "
        f"{human_duration(eta)}, between {human_duration(low)} and {later}"
    )


def risk_summary(
    check: str, risk: float, threshold: float, horizon: float, top: Sequence[tuple[str, float]]
) -> str:
    """``api likely to fail within 15 m: risk 0.91 (threshold 0.80)``."""
    text = (
        f"{check} is likely to fail within {human_duration(horizon)}: risk {risk:.2f} "
        f"(threshold {threshold:.2f})"
    )
    return f"{text} · contributing: {_shares(top)}" if top else text


def prediction_cleared(kind: str, after: float) -> str:
    return f"The {kind} prediction has been clear for {human_duration(after)}."


def prediction_unreported(kind: str, silent: float) -> str:
    return (
        f"The {kind} prediction's metric has not been reported for {human_duration(silent)}: "
        "nothing left to judge, so the incident resolves."
    )


def prediction_title(kind: str) -> str:
    """The word an incident header uses for a predicted incident."""
    return {"anomaly": "ANOMALY", "risk": "PREDICTED FAILURE", "forecast": "FORECAST"}.get(
        kind, kind.upper()
    )


def feedback_recorded(
    actor: str, verdict: str, kind: str, precision: float | None, useful: int, total: int
) -> str:
    said = "useful" if verdict == "useful" else "a false alarm"
    text = f"{mention_user(actor)} marked this prediction {said}."
    if precision is not None:
        text += f" {kind} precision so far: {precision:.0%} ({useful} useful of {total})."
    return text


def threshold_raised(kind: str, target: str, count: int, old: float, new: float) -> str:
    what = " ".join(part for part in target.split("|") if part)
    if kind == "forecast":
        return (
            f"{count} false alarms on {what}: its forecast horizon shrinks from "
            f"{human_duration(old)} to {human_duration(new)}."
        )
    return (
        f"{count} false alarms on {what}: its {kind} threshold rises from {old:.2f} to {new:.2f}."
    )


def not_a_prediction(incident_id: int) -> str:
    return f"incident #{incident_id} is not a prediction: feedback buttons are for predictions"


def model_refused(path: str, reason: str) -> str:
    return f"model state {path} refused ({reason}); that model starts cold"


def model_failed(kind: str) -> str:
    return f"the {kind} model failed and is off until restart; rule alerting is unaffected"


def predict_report(report: Mapping[str, Any], check: str | None) -> str:
    """``/selfreg predict [CHECK]``: anomalies, risks and forecasts as they stand."""
    lines = [f"*Predictions{' for ' + check if check else ''}*"]
    anomalies = report.get("anomalies", [])
    lines.append("*Anomalies*" + ("" if anomalies else ": none open"))
    lines += [f"• {a['what']}: {a['summary']}" for a in anomalies]
    risks = report.get("risks", [])
    lines.append("*Failure risk*" + ("" if risks else ": no check watched"))
    for r in risks:
        if r["state"] == "learning":
            lines.append(
                f"• {r['check']}: learning: {r['samples']} samples, {r['failures']} failures"
            )
        elif r["risk"] is None:
            lines.append(f"• {r['check']}: {r['state']}")
        else:
            lines.append(f"• {r['check']}: risk {r['risk']:.2f} (threshold {r['threshold']:.2f})")
    forecasts = report.get("forecasts", [])
    lines.append("*Forecasts*" + ("" if forecasts else ": no crossing in sight"))
    lines += [f"• {f['summary']}" for f in forecasts]
    off = report.get("off", [])
    if off:
        lines.append("Off: " + ", ".join(off))
    return "\n".join(lines)


def models_status(rows: Sequence[Mapping[str, Any]]) -> str:
    """``selfreg models status``: one line per model."""
    out = []
    for r in rows:
        fit = clock_time(r["last_fit"]) if r.get("last_fit") else "never"
        precision = f"{r['precision']:.0%}" if r.get("precision") is not None else "n/a"
        out.append(
            f"{r['model']:<9} {'on' if r['enabled'] else 'off':<3} "
            f"trained: {'yes' if r['trained'] else 'no':<3} samples: {r['samples']:<7} "
            f"last fit: {fit} · precision {precision} "
            f"(useful {r['useful']}, false alarms {r['false_alarms']})"
            + (f" · {r['note']}" if r.get("note") else "")
        )
    return "\n".join(out)


def models_trained(rows: Sequence[Mapping[str, Any]], where: str) -> str:
    return f"Models fitted {where}.\n" + models_status(rows)


def models_off() -> str:
    return "Every model is off: turn them on in [models] (anomaly, failure_risk, forecast)."


def reload_not_running(data_dir: str) -> str:
    """``selfreg reload`` with nothing running: the next start reads the file anyway."""
    return f"selfreg is not running with data folder {data_dir}; the next start reads the config."


def component_reconfigured(name: str) -> str:
    """A reload changed a crash-looping component: it was restarted with the new config."""
    return f"Component {name} was restarted with its changed config (live reload)."
