"""What the configuration takes from the environment: secrets and deployment settings
(never from files), the Slack connection they decide, and the problems they can have.

``ENVIRONMENT_VARIABLES`` lists each variable selfreg reads; ``.env.example`` mirrors it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot import messages
from bot.config.schema import Settings
from bot.errors import MISSING, ConfigProblem

ENVIRONMENT_VARIABLES: dict[str, str] = {
    "SELFREG_CONFIG": "Path of selfreg.toml (default ./selfreg.toml, else the bundled example).",
    "SELFREG_ENV": "Overlay name: SELFREG_ENV=prod merges selfreg.prod.toml over the base file.",
    "SELFREG_DATA_DIR": "Folder for the database, logs and control socket (default ./var).",
    "SELFREG_WEB_HOST": "Address the web server binds (default 127.0.0.1).",
    "SELFREG_WEB_PORT": "Port of the web server (default 8787; 0 picks a free one).",
    "SELFREG_WEB_TOKEN": "Bearer token for every route but /health; required off loopback.",
    "SELFREG_LOG_LEVEL": "Logging level: DEBUG, INFO (default), WARNING, ERROR.",
    "SELFREG_SMTP_PASSWORD": "Password for [alerts.email] username.",
    "SELFREG_WEBHOOK_SECRET": "Signs [alerts.webhook] posts (Standard Webhooks); whsec_<base64> form.",
    "SELFREG_AUDIT_KEY": "Key of the audit trail's HMAC chain (default: <data>/audit.key, made once).",
    "SELFREG_SLACK_MODE": "socket, http, post or off; default: chosen from the tokens present.",
    "SLACK_BOT_TOKEN": "Bot token (xoxb-...): posts and updates messages.",
    "SLACK_APP_TOKEN": "App-level token (xapp-...): socket mode, no public URL needed.",
    "SLACK_SIGNING_SECRET": "Signing secret: HTTP mode, Slack POSTs to /slack/events.",
    "SLACK_CHANNEL": "Alert channel id or #name; overrides [slack] channel.",
    "SLACK_API_URL": "Web API base URL (default https://slack.com/api/); tests point it at a stand-in.",
    "SELFREG_HEARTBEAT_URL": "Dead-man's switch URL (e.g. healthchecks.io) selfreg GETs every minute.",
    "SELFREG_ALERTMANAGER_TOKEN": "Bearer token Alertmanager must send to /hooks/alertmanager ([alertmanager] token_env may name another).",
    "FLY_API_TOKEN": "Fly.io token for the fly check and actions (Bearer or FlyV1 form; token_env may name another).",
    "SELFREG_LOG_FORMAT": "text (default) or json: one JSON object per line (Fly, Loki, Docker).",
    "SELFREG_PYTHON_OPTIMIZE": "2 (default): `selfreg run` runs under python -OO (no docstrings, ~4.5 MB less); 0: as started.",
    "HTTPS_PROXY": "Proxy for outgoing HTTPS (Slack, webhooks, checks, heartbeat); HTTP_PROXY for http.",
    "NO_PROXY": "Hosts reached directly, comma-separated (add 127.0.0.1,localhost with a proxy).",
    "NOTIFY_SOCKET": "Set by systemd (Type=notify): selfreg sends READY=1, WATCHDOG=1, STOPPING=1.",
    "WATCHDOG_USEC": "Set by systemd (WatchdogSec=): selfreg pings at half this interval.",
    "WATCHDOG_PID": "Set by systemd: the pid the watchdog is meant for.",
}
"""Every environment variable selfreg reads, with what it does."""


SLACK_MODES = ("socket", "http", "post", "off")


@dataclass(frozen=True, kw_only=True, slots=True)
class SlackConnection:
    """How selfreg talks to Slack, from the environment (secrets never come from files)."""

    mode: str
    bot_token: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    channel: str | None = None
    api_url: str | None = None

    @property
    def enabled(self) -> bool:
        return self.mode != "off"

    @property
    def interactive(self) -> bool:
        """Commands and buttons work (socket or HTTP mode); post mode only delivers."""
        return self.mode in ("socket", "http")


def _value(env: Mapping[str, str], name: str) -> str | None:
    """A variable's value; empty counts as unset."""
    return env.get(name) or None


def slack_mode(env: Mapping[str, str]) -> tuple[str, list[ConfigProblem]]:
    """SELFREG_SLACK_MODE if given (``off`` when it is not a mode), else chosen by the tokens
    present: an app token means socket mode, a signing secret HTTP mode, a bot token alone
    post mode."""
    mode = _value(env, "SELFREG_SLACK_MODE")
    if mode is None:
        app, secret, bot = (
            _value(env, name)
            for name in ("SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN")
        )
        return ("socket" if app else "http" if secret else "post" if bot else "off"), []
    if mode not in SLACK_MODES:
        problem = ConfigProblem(
            "environment", "SELFREG_SLACK_MODE", mode, messages.expected_slack_mode()
        )
        return "off", [problem]
    return mode, []


def _slack_needs(env: Mapping[str, str], mode: str) -> list[ConfigProblem]:
    """The tokens a Slack mode needs that the environment lacks."""
    needs = {
        "socket": ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"),
        "http": ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"),
        "post": ("SLACK_BOT_TOKEN",),
    }
    return [
        ConfigProblem("environment", name, MISSING, messages.slack_mode_needs_it(mode))
        for name in needs.get(mode, ())
        if _value(env, name) is None
    ]


def slack_connection(
    env: Mapping[str, str], settings: Settings
) -> tuple[SlackConnection, list[ConfigProblem]]:
    """Decide the Slack mode (``slack_mode``), and check it has its tokens and a channel."""
    mode, problems = slack_mode(env)
    problems += _slack_needs(env, mode)
    channel = _value(env, "SLACK_CHANNEL") or settings.slack.channel
    if mode != "off" and channel is None:
        problems.append(
            ConfigProblem(
                "environment",
                "SLACK_CHANNEL",
                MISSING,
                messages.slack_channel_needed(),
            )
        )
    connection = SlackConnection(
        mode=mode,
        bot_token=_value(env, "SLACK_BOT_TOKEN"),
        app_token=_value(env, "SLACK_APP_TOKEN"),
        signing_secret=_value(env, "SLACK_SIGNING_SECRET"),
        channel=channel,
        api_url=_value(env, "SLACK_API_URL"),
    )
    return connection, problems


def environment_overrides(
    environ: Mapping[str, str],
) -> tuple[dict[str, Any], list[ConfigProblem]]:
    """The settings the environment overrides (``[web]`` host and port), as a document to
    merge over the files."""
    web: dict[str, Any] = {}
    problems = []
    if host := environ.get("SELFREG_WEB_HOST"):
        web["host"] = host
    if port := environ.get("SELFREG_WEB_PORT"):
        if port.isdigit() and int(port) <= 65535:
            web["port"] = int(port)
        else:
            problems.append(
                ConfigProblem("environment", "SELFREG_WEB_PORT", port, messages.expected_port())
            )
    return ({"web": web} if web else {}), problems


def log_level(environ: Mapping[str, str]) -> tuple[str, list[ConfigProblem]]:
    """SELFREG_LOG_LEVEL, upper-cased (default INFO)."""
    level = environ.get("SELFREG_LOG_LEVEL", "INFO").upper()
    if level in ("DEBUG", "INFO", "WARNING", "ERROR"):
        return level, []
    problem = ConfigProblem(
        "environment", "SELFREG_LOG_LEVEL", level, messages.expected_log_level()
    )
    return level, [problem]


def heartbeat_url(environ: Mapping[str, str]) -> tuple[str | None, list[ConfigProblem]]:
    """SELFREG_HEARTBEAT_URL, if set; it must be an http(s) URL."""
    heartbeat = environ.get("SELFREG_HEARTBEAT_URL") or None
    if heartbeat is not None and not heartbeat.startswith(("http://", "https://")):
        # the value is a secret-ish URL: name the variable, never echo it
        problem = ConfigProblem(
            "environment", "SELFREG_HEARTBEAT_URL", MISSING, messages.expected_http_url()
        )
        return heartbeat, [problem]
    return heartbeat, []


def log_format(environ: Mapping[str, str]) -> tuple[str, list[ConfigProblem]]:
    """SELFREG_LOG_FORMAT, lower-cased: text (default) or json."""
    fmt = environ.get("SELFREG_LOG_FORMAT", "text").lower() or "text"
    if fmt in ("text", "json"):
        return fmt, []
    problem = ConfigProblem(
        "environment", "SELFREG_LOG_FORMAT", fmt, messages.expected_log_format()
    )
    return "text", [problem]


PYTHON_OPTIMIZE_LEVELS = ("0", "2")


def python_optimize(environ: Mapping[str, str]) -> tuple[bool, list[ConfigProblem]]:
    """SELFREG_PYTHON_OPTIMIZE: whether ``selfreg run`` runs under ``python -OO`` (default
    2: yes; 0: the interpreter as started). ``bot.interpreter`` says why."""
    level = environ.get("SELFREG_PYTHON_OPTIMIZE", "2").strip() or "2"
    if level in PYTHON_OPTIMIZE_LEVELS:
        return level == "2", []
    problem = ConfigProblem(
        "environment", "SELFREG_PYTHON_OPTIMIZE", level, messages.expected_python_optimize()
    )
    return False, [problem]
