"""The configuration: ``selfreg.toml`` (plus an optional overlay) and the environment.

Read once, in one place (``load_settings``), validated by pydantic; every problem is reported
with the file, the key path and the bad value. Secrets and deployment settings come only from
the environment (``ENVIRONMENT_VARIABLES`` lists each one; ``.env.example`` mirrors it).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

import actions
import checks
from actions.base import ActionSpec, Mode, Risk
from bot.config_alerts import AlertsSettings, SlackSettings
from bot.config_backup import BackupSettings
from bot.config_lifecycle import HeartbeatSettings, ReloadSettings
from bot.errors import MISSING, ConfigError, ConfigProblem
from checks.base import CheckSpec
from common.units import Duration, Size

ENVIRONMENT_VARIABLES: dict[str, str] = {
    "SELFREG_CONFIG": "Path of selfreg.toml (default ./selfreg.toml, else the bundled example).",
    "SELFREG_ENV": "Overlay name: SELFREG_ENV=prod merges selfreg.prod.toml over the base file.",
    "SELFREG_DATA_DIR": "Folder for the database, logs and control socket (default ./var).",
    "SELFREG_WEB_HOST": "Address the web server binds (default 127.0.0.1).",
    "SELFREG_WEB_PORT": "Port of the web server (default 8787; 0 picks a free one).",
    "SELFREG_WEB_TOKEN": "Bearer token for every route but /health; required off loopback.",
    "SELFREG_LOG_LEVEL": "Logging level: DEBUG, INFO (default), WARNING, ERROR.",
    "SELFREG_SMTP_PASSWORD": "Password for [alerts.email] username.",
    "SELFREG_WEBHOOK_SECRET": "HMAC-SHA256 key that signs [alerts.webhook] posts.",
    "SELFREG_SLACK_MODE": "socket, http, post or off; default: chosen from the tokens present.",
    "SLACK_BOT_TOKEN": "Bot token (xoxb-...): posts and updates messages.",
    "SLACK_APP_TOKEN": "App-level token (xapp-...): socket mode, no public URL needed.",
    "SLACK_SIGNING_SECRET": "Signing secret: HTTP mode, Slack POSTs to /slack/events.",
    "SLACK_CHANNEL": "Alert channel id or #name; overrides [slack] channel.",
    "SLACK_API_URL": "Web API base URL (default https://slack.com/api/); tests point it at a stand-in.",
    "SELFREG_HEARTBEAT_URL": "Dead-man's switch URL (e.g. healthchecks.io) selfreg GETs every minute.",
}
"""Every environment variable selfreg reads, with what it does."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WebSettings(Section):
    """``[web]``: the HTTP server for /health, /status, /metrics."""

    host: str = Field(
        default="127.0.0.1",
        description="Bind address; beyond loopback "
        "every route but /health needs SELFREG_WEB_TOKEN.",
    )
    port: int = Field(default=8787, ge=0, le=65535, description="Port; 0 picks a free one.")


class StoreSettings(Section):
    """``[store]``: the SQLite file and how long it keeps things."""

    path: str = Field(
        default="selfreg.db", description="Database file, relative to the data folder."
    )
    metrics_retention: Duration = Field(
        default=86400.0, gt=0, description="How long raw metric samples are kept."
    )
    rollup_retention: Duration = Field(
        default=30 * 86400.0, gt=0, description="How long one-minute rollups are kept."
    )
    events_retention: Duration = Field(
        default=30 * 86400.0, gt=0, description="How long event rows are kept."
    )


class ModelsSettings(Section):
    """``[models]``: the predictors. A prediction opens its own warning incident and never
    changes a rule's; with no trained model (or one that fails) the rules alone decide."""

    anomaly: bool = Field(default=True, description="Score every metric for anomalies.")
    failure_risk: bool = Field(
        default=True,
        description="Predict per check whether its rule will fail within `horizon` "
        "(once enough history is stored).",
    )
    forecast: bool = Field(
        default=True,
        description="Forecast when a metric with a warn/critical threshold will cross it.",
    )
    threshold: float = Field(
        default=0.5,
        gt=0,
        lt=1,
        description="Anomaly score (0..1) at or above which an anomaly incident opens; a "
        "check may override it with `anomaly_threshold`.",
    )
    risk_threshold: float = Field(
        default=0.8, gt=0, lt=1, description="Failure-risk score that opens a risk incident."
    )
    horizon: Duration = Field(
        default=900.0,
        gt=0,
        description="Failure risk: how far ahead a rule incident counts as the failure predicted.",
    )
    forecast_horizon: Duration = Field(
        default=6 * 3600.0,
        gt=0,
        description="Forecast: an expected crossing within this opens a forecast incident.",
    )
    retrain_every: Duration = Field(
        default=3600.0,
        gt=0,
        description="How often the failure-risk forests are refitted, in a worker process "
        "(the anomaly group forests refit at most hourly, once a group has 300 rows).",
    )
    clear_after: Duration = Field(
        default=300.0,
        gt=0,
        description="A prediction incident resolves once its condition has been clear this long.",
    )
    warmup: int = Field(
        default=300,
        ge=10,
        description="Samples a metric needs before it gets anomaly scores (changing it "
        "starts the anomaly model cold).",
    )
    false_alarms: int = Field(
        default=3,
        ge=1,
        description="False-alarm clicks on one metric that raise its own threshold.",
    )


class HealthSettings(Section):
    """How selfreg decides a component is ready: exactly one of ``http``, ``tcp``, ``process``.

    It only decides "ready" after a start; whether a running component stays healthy is the
    job of ``[[checks]]``.
    """

    http: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="Ready when a GET of this URL answers 2xx or 3xx.",
    )
    tcp: str | None = Field(
        default=None,
        pattern=r"^\S+:\d{1,5}$",
        description="Ready when this host:port accepts a connection.",
    )
    process: bool = Field(default=False, description="Ready as soon as the process runs.")
    timeout: Duration = Field(
        default=30.0,
        gt=0,
        description="How long a start may take to become ready; then it is recorded as "
        "unready and the start goes on.",
    )

    @model_validator(mode="after")
    def _exactly_one_probe(self) -> HealthSettings:
        chosen = [k for k in ("http", "tcp") if getattr(self, k) is not None]
        if self.process:
            chosen.append("process")
        if len(chosen) != 1:
            raise ValueError("give exactly one of http, tcp or process = true")
        return self


class CrashLoopSettings(Section):
    """When a component exits this often, selfreg stops restarting it and asks a person."""

    exits: int = Field(default=5, ge=1, description="Exits within the window.")
    window: Duration = Field(default=60.0, gt=0, description="The window.")


class RemediationSettings(Section):
    """``[remediation]``: switches over every action at once."""

    dry_run: bool = Field(
        default=False,
        description="Every run only says what it would do; nothing changes anywhere.",
    )


class ComponentSettings(Section):
    """``[[components]]``: a program selfreg starts and keeps running."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Unique name.")
    command: list[str] = Field(
        min_length=1,
        description="argv list, never a shell string; a first word 'python' means the "
        "interpreter selfreg runs on.",
    )
    cwd: str | None = Field(
        default=None,
        description="Working folder, relative to the config file's folder (default: that folder).",
    )
    env: dict[str, str] = Field(
        default_factory=dict,
        description="Extra environment; selfreg's own variables (tokens) are not passed on.",
    )
    instances: int = Field(
        default=1,
        ge=1,
        le=64,
        description="Copies to run (workers); each gets SELFREG_INSTANCE=0, 1, ...",
    )
    restart: Literal["always", "on-failure", "never"] = Field(
        default="on-failure", description="When an exited component is started again."
    )
    restart_delay: Duration = Field(
        default=1.0,
        ge=0,
        description="The first restart is at once; a second quick exit waits this long, "
        "doubling per quick exit up to restart_backoff_max.",
    )
    restart_backoff_max: Duration = Field(
        default=30.0, ge=0, description="The longest wait before a restart."
    )
    stable_after: Duration = Field(
        default=10.0,
        gt=0,
        description="Up this long, an exit counts as fresh: the next restart is at once again.",
    )
    crash_loop: CrashLoopSettings = Field(
        default_factory=CrashLoopSettings,
        description="Exits within a window that stop the automatic restarts.",
    )
    health: HealthSettings | None = Field(
        default=None,
        description='Decides "ready" (none: running is ready); e.g. '
        '{ http = "http://127.0.0.1:5051/health" } or { tcp = "127.0.0.1:5051" }.',
    )
    stop_timeout: Duration = Field(
        default=10.0, gt=0, description="Wait after SIGTERM before SIGKILL."
    )
    log_max_bytes: Size = Field(
        default=10_000_000.0,
        gt=0,
        description="Output goes to <data>/logs/<name>.log; rotated past this size.",
    )
    log_keep: int = Field(
        default=5, ge=1, description="Rotated log files kept (<name>.log.1 is the newest)."
    )


def _plugin_union(registry: dict[str, Any]) -> Any:
    """One config entry type per registered kind, told apart by ``kind``."""
    specs = tuple(cls.Spec for cls in registry.values())
    if not specs:
        return ActionSpec  # no kinds registered: every entry is refused by kind below
    return Annotated[
        Annotated[specs[0], None] if len(specs) == 1 else _union(specs),
        Field(discriminator="kind"),
    ]


def _union(types: tuple[type, ...]) -> Any:
    from typing import Union

    return Union[types]  # noqa: UP007 - built from the registry at run time


CheckEntry = _plugin_union(checks.REGISTRY)
ActionEntry = _plugin_union(actions.REGISTRY)


class Settings(Section):
    """The whole of ``selfreg.toml``."""

    slack: SlackSettings = Field(default_factory=SlackSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    models: ModelsSettings = Field(default_factory=ModelsSettings)
    alerts: AlertsSettings = Field(default_factory=AlertsSettings)
    remediation: RemediationSettings = Field(default_factory=RemediationSettings)
    checks: list[CheckEntry] = Field(default_factory=list)  # type: ignore[valid-type]
    components: list[ComponentSettings] = Field(default_factory=list)
    actions: list[ActionEntry] = Field(default_factory=list)  # type: ignore[valid-type]
    backup: BackupSettings = Field(default_factory=BackupSettings)
    reload: ReloadSettings = Field(default_factory=ReloadSettings)
    heartbeat: HeartbeatSettings = Field(default_factory=HeartbeatSettings)

    @model_validator(mode="after")
    def _names_are_unique_and_references_resolve(self) -> Settings:
        problems: list[str] = []
        for section in ("checks", "components", "actions"):
            seen: set[str] = set()
            for entry in getattr(self, section):
                if entry.name in seen:
                    problems.append(f'{section}: the name "{entry.name}" is used twice')
                seen.add(entry.name)
        for action in self.actions:
            if action.kind not in actions.REGISTRY:
                known = ", ".join(sorted(actions.REGISTRY)) or "none yet"
                problems.append(
                    f'actions "{action.name}": unknown kind "{action.kind}" (known: {known})'
                )
            if action.mode is Mode.AUTO and action.risk is not Risk.LOW:
                problems.append(
                    f'actions "{action.name}": mode "auto" needs risk "low" '
                    "(medium and high risk need a person)"
                )
        action_names = {a.name for a in self.actions}
        for check in self.checks:
            for wanted in check.remediate:
                if wanted not in action_names:
                    problems.append(
                        f'checks "{check.name}": remediate names "{wanted}", '
                        "which is not an [[actions]] entry"
                    )
        if problems:
            raise ValueError("; ".join(problems))
        return self


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


def slack_connection(
    env: Mapping[str, str], settings: Settings
) -> tuple[SlackConnection, list[ConfigProblem]]:
    """Decide the Slack mode: SELFREG_SLACK_MODE if given, else by the tokens present."""

    def value(name: str) -> str | None:
        return env.get(name) or None  # empty counts as unset

    bot, app, secret = (
        value("SLACK_BOT_TOKEN"),
        value("SLACK_APP_TOKEN"),
        value("SLACK_SIGNING_SECRET"),
    )
    mode = value("SELFREG_SLACK_MODE")
    problems = []
    if mode is None:
        mode = "socket" if app else "http" if secret else "post" if bot else "off"
    elif mode not in SLACK_MODES:
        problems.append(
            ConfigProblem(
                "environment", "SELFREG_SLACK_MODE", mode, "expected socket, http, post or off"
            )
        )
        mode = "off"
    needs = {
        "socket": ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"),
        "http": ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"),
        "post": ("SLACK_BOT_TOKEN",),
    }
    for name in needs.get(mode, ()):
        if value(name) is None:
            problems.append(
                ConfigProblem("environment", name, MISSING, f"Slack {mode} mode needs it")
            )
    channel = value("SLACK_CHANNEL") or settings.slack.channel
    if mode != "off" and channel is None:
        problems.append(
            ConfigProblem(
                "environment",
                "SLACK_CHANNEL",
                MISSING,
                "Slack needs an alert channel: set SLACK_CHANNEL or [slack] channel",
            )
        )
    connection = SlackConnection(
        mode=mode,
        bot_token=bot,
        app_token=app,
        signing_secret=secret,
        channel=channel,
        api_url=value("SLACK_API_URL"),
    )
    return connection, problems


@dataclass(frozen=True, kw_only=True, slots=True)
class LoadedConfig:
    """A validated configuration and where it came from."""

    settings: Settings
    files: tuple[Path, ...]
    data_dir: Path
    web_token: str | None = field(repr=False)
    log_level: str
    slack: SlackConnection = field(default_factory=lambda: SlackConnection(mode="off"))
    smtp_password: str | None = field(default=None, repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    heartbeat_url: str | None = field(default=None, repr=False)

    @property
    def db_path(self) -> Path:
        return self.data_dir / self.settings.store.path

    @property
    def control_socket(self) -> Path:
        return self.data_dir / "selfreg.sock"

    def check_specs(self) -> list[CheckSpec]:
        return list(self.settings.checks)


def bundled_example() -> Path:
    """The example config shipped with selfreg (used when no config file is given)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "examples" / "selfreg.toml", here / "example.toml"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("the bundled example config is missing from this installation")


def config_path(explicit: str | None, environ: Mapping[str, str]) -> Path:
    """Which file to read: --config, SELFREG_CONFIG, ./selfreg.toml, else the bundled example."""
    chosen = explicit or environ.get("SELFREG_CONFIG")
    if chosen:
        return Path(chosen)
    local = Path("selfreg.toml")
    return local if local.is_file() else bundled_example()


def overlay_path(base: Path, env_name: str) -> Path:
    """``selfreg.toml`` + ``prod`` -> ``selfreg.prod.toml`` beside it."""
    return base.with_name(f"{base.stem}.{env_name}{base.suffix}")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError([ConfigProblem(str(path), "", MISSING, "no such file")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            [ConfigProblem(str(path), "", MISSING, f"not valid TOML: {exc}")]
        ) from None


def merge_overlay(base: dict[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``overlay`` over ``base``: tables deep-merge, lists of named tables merge by name."""
    merged = dict(base)
    for key, value in overlay.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merged[key] = merge_overlay(current, value)
        elif _named_tables(current) and _named_tables(value):
            by_name = {entry["name"]: entry for entry in current}
            for entry in value:
                previous = by_name.get(entry["name"])
                by_name[entry["name"]] = merge_overlay(previous, entry) if previous else entry
            merged[key] = list(by_name.values())
        else:
            merged[key] = value
    return merged


def _named_tables(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(e, dict) and "name" in e for e in value)


def _key_path(loc: tuple[int | str, ...], document: Mapping[str, Any]) -> str:
    """Turn a pydantic location into the key path an operator reads: checks[2] "api".url."""
    parts: list[str] = []
    node: Any = document
    index = 0
    while index < len(loc):
        item = loc[index]
        if isinstance(item, int):
            name = (
                node[item].get("name")
                if isinstance(node, list) and item < len(node) and isinstance(node[item], dict)
                else None
            )
            parts[-1] += f"[{item}]" + (f' "{name}"' if name else "")
            node = node[item] if isinstance(node, list) and item < len(node) else None
            # a discriminated union adds the tag (the check's kind) after the index: skip it
            if (
                index + 1 < len(loc)
                and isinstance(node, dict)
                and loc[index + 1] == node.get("kind")
            ):
                index += 1
        else:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, dict) else None
        index += 1
    return ".".join(parts)


def _lookup(document: Mapping[str, Any], key_path: str) -> Any:
    """The value at a dotted key path in the raw document, or ``MISSING``."""
    node: Any = document
    for part in key_path.split("."):
        name, _, rest = part.partition("[")
        if not isinstance(node, dict) or name not in node:
            return MISSING
        node = node[name]
        if rest:
            position = int(rest.split("]")[0])
            if not isinstance(node, list) or position >= len(node):
                return MISSING
            node = node[position]
    return node


def validate(document: Mapping[str, Any], files: list[tuple[Path, Mapping[str, Any]]]) -> Settings:
    """Validate a merged document; name the file that set each bad key."""
    try:
        return Settings.model_validate(document)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = _key_path(tuple(error["loc"]), document)
            source = next(
                (str(path) for path, raw in reversed(files) if _lookup(raw, key) is not MISSING),
                str(files[0][0]),
            )
            value = MISSING if error["type"] == "missing" else error.get("input", MISSING)
            if isinstance(value, dict | list) and error["type"] not in ("missing",):
                value = _lookup(document, key) if error["loc"] else MISSING
                if isinstance(value, dict | list):
                    value = MISSING
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "union_tag_invalid":
                registry = actions.REGISTRY if key.startswith("actions") else checks.REGISTRY
                noun = "action" if key.startswith("actions") else "check"
                key, value = f"{key}.kind", error["ctx"]["tag"]
                message = f"unknown {noun} kind; known kinds: {', '.join(sorted(registry))}"
            problems.append(ConfigProblem(source, key, value, message))
        raise ConfigError(problems) from None


def _environment_overrides(
    environ: Mapping[str, str],
) -> tuple[dict[str, Any], list[ConfigProblem]]:
    web: dict[str, Any] = {}
    problems = []
    if host := environ.get("SELFREG_WEB_HOST"):
        web["host"] = host
    if port := environ.get("SELFREG_WEB_PORT"):
        if port.isdigit() and int(port) <= 65535:
            web["port"] = int(port)
        else:
            problems.append(
                ConfigProblem(
                    "environment", "SELFREG_WEB_PORT", port, "expected a port number 0-65535"
                )
            )
    return ({"web": web} if web else {}), problems


def load_settings(
    explicit: str | None = None, environ: Mapping[str, str] | None = None
) -> LoadedConfig:
    """Read, merge and validate the config; raise ``ConfigError`` listing every problem."""
    env = os.environ if environ is None else environ
    base_path = config_path(explicit, env)
    files = [(base_path, _read_toml(base_path))]
    if env_name := env.get("SELFREG_ENV"):
        files.append((overlay := overlay_path(base_path, env_name), _read_toml(overlay)))
    document: dict[str, Any] = {}
    for _, raw in files:
        document = merge_overlay(document, raw)
    overrides, problems = _environment_overrides(env)
    level = env.get("SELFREG_LOG_LEVEL", "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        problems.append(
            ConfigProblem(
                "environment", "SELFREG_LOG_LEVEL", level, "expected DEBUG, INFO, WARNING or ERROR"
            )
        )
    if problems:
        raise ConfigError(problems)
    settings = validate(merge_overlay(document, overrides), files)
    slack, problems = slack_connection(env, settings)
    heartbeat = env.get("SELFREG_HEARTBEAT_URL") or None
    if heartbeat is not None and not heartbeat.startswith(("http://", "https://")):
        # the value is a secret-ish URL: name the variable, never echo it
        problems.append(
            ConfigProblem(
                "environment", "SELFREG_HEARTBEAT_URL", MISSING, "expected an http(s) URL"
            )
        )
    if problems:
        raise ConfigError(problems)
    return LoadedConfig(
        settings=settings,
        files=tuple(path for path, _ in files),
        data_dir=Path(env.get("SELFREG_DATA_DIR") or "var"),
        web_token=env.get("SELFREG_WEB_TOKEN") or None,
        log_level=level,
        slack=slack,
        smtp_password=env.get("SELFREG_SMTP_PASSWORD") or None,
        webhook_secret=env.get("SELFREG_WEBHOOK_SECRET") or None,
        heartbeat_url=heartbeat,
    )
