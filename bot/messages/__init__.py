"""Every sentence an operator reads, in one place, split by who reads it.

    common       times, durations, mentions, counts and sizes every audience shares
    incidents    incident events, worded once for every channel
    slack        slash-command answers, ephemeral refusals, button and modal text
    proposals    remediation: refusals, approvals, results, the offer line
    delivery     email and webhook wording, and why a delivery failed
    notices      selfreg itself: started, stopping, recovered, config reloads
    console      terminal lines: start-up, start / stop, the status screen's words
    backups      backup, backup list, restore and the start-up backup step
    predictions  anomaly, risk and forecast summaries, feedback, the models
    errors       the texts of ``bot.errors``' classes and config problems

Small pure functions, so wording is reviewed here and tests assert on it. Layout (column
widths, padding, colours) is not wording: it lives in ``bot.cli.tables``. This package
re-exports every public name, so ``from bot import messages; messages.opened(...)`` works
whichever module holds the sentence.
"""

# ruff: noqa: F401 (the imports below are this package's public names)

from __future__ import annotations

from bot.messages.backups import (
    BACKUP_COLUMNS,
    backup_created,
    backup_made_at_start,
    backup_skipped_no_store,
    backup_step_off,
    backups_heading,
    no_backups,
    restored,
)
from bot.messages.common import (
    clock_time,
    error_text,
    file_size,
    human_duration,
    mention,
    mention_user,
    ms,
    plural,
    subject_label,
    utc_time,
)
from bot.messages.console import (
    CHECK_COLUMNS,
    COMPONENT_COLUMNS,
    OBSERVATION_COLUMNS,
    STATUS_MARK,
    STEP_MARK,
    ago,
    audit_intact,
    audit_tampered,
    bad_option,
    checks_heading,
    cli_error,
    component_step,
    config_problems_found,
    config_valid,
    failing_line,
    first_health,
    fitted_where,
    health_verdict,
    heartbeat_line,
    killed_after,
    last_backup,
    leftovers_stopped,
    metric_line,
    monitors_started,
    never_ran,
    no_check_yet,
    not_running,
    not_stopped,
    nothing_to_verify,
    open_incidents_heading,
    pending_approvals_heading,
    proposals_need_running,
    reload_not_running,
    slack_off,
    slack_token_ok,
    slack_unreachable,
    stale_pid_file,
    start_exited,
    start_failed,
    start_interrupted,
    start_timed_out,
    started,
    starting_in_background,
    startup_checks_line,
    startup_header,
    startup_step,
    status_approval_line,
    status_head,
    status_incident_line,
    stopped,
    stopped_after,
    stopping,
    store_and_servers,
)
from bot.messages.delivery import (
    certificate_untrusted,
    email_body,
    email_subject,
    log_not_written,
    smtp_password_missing,
    smtp_recipients_refused,
    smtp_refused,
    smtp_unreachable,
    smtp_unsupported,
    webhook_answered,
    webhook_redirected,
    webhook_unreachable,
)
from bot.messages.errors import (
    already_running,
    data_folder_unwritable,
    executable_missing,
    port_taken,
    python_too_old,
)
from bot.messages.incidents import (
    ack_reminder,
    acknowledged,
    component_reconfigured,
    console_notice,
    crash_loop,
    escalated,
    flapping,
    kept_stopped,
    opened,
    removed_from_config,
    reopened,
    resolved,
    restarted_anyway,
    silence_ended,
    silenced,
    status_changed,
    still_open,
)
from bot.messages.notices import (
    config_changes,
    config_refused,
    config_reload_failed,
    config_unchanged,
    recovered_from_crash,
    selfreg_started,
    selfreg_stopping,
    slack_post_mode,
)
from bot.messages.predictions import (
    anomaly_summary,
    feedback_recorded,
    forecast_summary,
    group_anomaly_summary,
    model_failed,
    model_refused,
    models_off,
    models_status,
    models_trained,
    not_a_prediction,
    predict_report,
    prediction_cleared,
    prediction_title,
    prediction_unreported,
    risk_summary,
    threshold_raised,
)
from bot.messages.proposals import (
    action_result,
    action_timed_out,
    approved_by,
    denied_by,
    denied_with_reason,
    first_approval,
    not_effective,
    offer_closing,
    offer_line,
    proposal_expired,
    refusal_budget,
    refusal_cooldown,
    refusal_expired,
    refusal_mode,
    refusal_not_approver,
    refusal_paused,
    refusal_requester,
    refusal_same_person,
    refusal_unknown_proposal,
    refusal_used,
    shadow_would_run,
    suggested,
    verified,
)
from bot.messages.slack import (
    acknowledged_reply,
    admins_only,
    bad_arguments,
    button_not_for_this_message,
    button_stale,
    command_help,
    health_started,
    kill_switch,
    manual_run,
    no_actions_configured,
    not_allowed,
    reload_in_progress,
    reload_unavailable,
    silence_added,
    silence_removed,
    silence_scheduled,
    unknown_command,
)
